// The exactly-once record of pushed client transactions (docs/protocol.md, "POST /v1/push";
// docs/protocol.md): `_outpost.pushes` holds one row per (tenant, user, client_id, tx_id) with the
// transaction's result, written in the same PostgreSQL transaction as its effects (or, for a
// rejection, in one of its own). A retried push finds the record and gets the same result.
//
// Threading: one PushRecord per push request; it uses the request's connection.
#pragma once

#include <optional>
#include <string>

#include "model.h"
#include "outpost/protocol_push.h"
#include "pg.h"

namespace outpost::server {

class PushRecord {
 public:
  PushRecord(PgConnection& conn, const Principal& who, std::string client_id)
      : conn_(conn), who_(who), client_id_(std::move(client_id)) {}

  // The result recorded for `tx_id`, if any. Errors: kInternal for a record that does not
  // decode; PostgreSQL failures.
  Result<std::optional<protocol::TxResult>> Lookup(int64_t tx_id);

  // Inside an open transaction, before applying `tx_id`: claims its record. A concurrent push of
  // the same transaction waits here until this transaction ends, then finds the record. Returns
  // this transaction's xid (the checkpoint), or nullopt when another request recorded `tx_id`
  // first.
  Result<std::optional<uint64_t>> Claim(int64_t tx_id);
  // Inside the claiming transaction: stores the result (an applied one).
  Status Complete(const protocol::TxResult& result);

  // Inside an open transaction of its own: records a rejection. The xid of this transaction is
  // the rejection's checkpoint (CurrentXid). False when another request recorded `tx_id` first.
  Result<uint64_t> CurrentXid();
  Result<bool> InsertRejection(const protocol::TxResult& result);

 private:
  PgParams Key(int64_t tx_id) const {
    return {who_.tenant, who_.user, client_id_, std::to_string(tx_id)};
  }

  PgConnection& conn_;
  const Principal& who_;
  std::string client_id_;
};

}  // namespace outpost::server
