// GoGoTime offline timesheets: a web app on the Outpost browser package.
//
// Everything the page shows comes from local SQL over the mirrored GoGoTime tables (watched
// queries re-run when a table they read changes, here, in another tab or by sync); everything it
// changes is a local SQL write that Outpost pushes when the network allows. The page never calls
// the server itself.
import { open } from '/outpost/outpost.js';

const $ = (selector) => document.querySelector(selector);
const params = new URLSearchParams(location.search);

let config = null; // {users: [{label, role, userId, companyId, token}]}
let user = null;
let db = null;
let week = null; // the Monday of the week shown, YYYY-MM-DD
let stopWatches = [];
let actionCodes = [];
let timesheet = null;
let entries = [];

// --- Dates (civil dates as YYYY-MM-DD strings, computed in UTC) -----------------------------

function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function mondayOf(day) {
  const d = new Date(`${day}T00:00:00Z`);
  return addDays(day, -((d.getUTCDay() + 6) % 7));
}

function today() {
  return new Date().toISOString().slice(0, 10);
}

function weekdayName(day, withYear = false) {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString('en-GB', {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    ...(withYear ? { year: 'numeric' } : {}),
    timeZone: 'UTC',
  });
}

const NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

// --- Signing in ------------------------------------------------------------------------------

async function start() {
  config = await (await fetch('/demo-config/config.json', { cache: 'no-store' })).json();
  const saved = localStorage.getItem('gogotime.user');
  const chosen = config.users.find((u) => u.userId === saved);
  if (chosen) await signIn(chosen);
  else showSignIn();
}

function showSignIn() {
  $('#sign-in').hidden = false;
  $('#app').hidden = true;
  $('#sync-bar').hidden = true;
  const list = $('#users');
  list.replaceChildren();
  for (const u of config.users) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = `${u.label} (${u.role})`;
    b.dataset.testid = `sign-in-${u.key}`;
    b.onclick = () => signIn(u).catch(showSignInError);
    li.append(b);
    list.append(li);
  }
}

function showSignInError(e) {
  $('#sign-in-error').hidden = false;
  $('#sign-in-error').textContent = `Cannot open the local database: ${e.message}`;
}

async function signIn(u) {
  user = u;
  localStorage.setItem('gogotime.user', u.userId);
  db = await open({
    name: `gogotime-${u.userId}`,
    serverUrl: location.origin,
    token: u.token,
    storage: params.get('storage') ?? 'auto',
  });
  window.outpostDb = db; // for the browser tests and the curious
  $('#sign-in').hidden = true;
  $('#app').hidden = false;
  $('#sync-bar').hidden = false;
  $('#who').textContent = u.label;
  db.on('status', renderStatus);
  db.on('rejections', renderRejections);
  renderStatus(await db.status());
  renderRejections(await db.rejections());

  if (!(await db.status()).bootstrapped) {
    $('#week-label').textContent = 'Loading your timesheets…';
    await db.sync().catch(() => {}); // offline at first start: shown by the status bar
  }
  actionCodes = await db
    .query('SELECT id, code, name FROM action_codes WHERE active ORDER BY code')
    .catch(() => []);
  fillSelect($('#add-entry [name=action]'), actionCodes.map((a) => [a.id, `${a.code} · ${a.name}`]));
  const fromHash = /week=(\d{4}-\d{2}-\d{2})/.exec(location.hash);
  await showWeek(fromHash ? mondayOf(fromHash[1]) : await latestWeek());
  document.body.dataset.ready = 'true';
}

async function signOut() {
  localStorage.removeItem('gogotime.user');
  for (const stop of stopWatches) stop();
  stopWatches = [];
  await db?.close();
  db = null;
  delete document.body.dataset.ready;
  showSignIn();
}

// --- The week ---------------------------------------------------------------------------------

async function latestWeek() {
  const rows = await db
    .query('SELECT max(day) AS day FROM timesheet_entries WHERE "userId" = ? AND "deletedAt" IS NULL', [
      user.userId,
    ])
    .catch(() => []);
  return mondayOf(rows[0]?.day ?? today());
}

async function showWeek(monday) {
  week = monday;
  history.replaceState(null, '', `#week=${monday}`);
  $('#week-label').textContent = `Week of ${weekdayName(monday)} – ${weekdayName(addDays(monday, 6), true)}`;
  fillSelect(
    $('#add-entry [name=day]'),
    [...Array(7).keys()].map((i) => [addDays(monday, i), weekdayName(addDays(monday, i))]),
  );
  for (const stop of stopWatches) stop();
  stopWatches = [
    db.watch(
      `SELECT e.id, e.day, e."durationMin", e."workMode", e.country, e.note, e."actionCodeId",
              a.code AS action
         FROM timesheet_entries e LEFT JOIN action_codes a ON a.id = e."actionCodeId"
        WHERE e."userId" = ? AND e.day BETWEEN ? AND ? AND e."deletedAt" IS NULL
        ORDER BY e.day, e."createdAt", e.id`,
      [user.userId, monday, addDays(monday, 6)],
      (rows) => {
        entries = rows;
        renderEntries();
      },
      (e) => showError('#form-error', e),
    ),
    db.watch(
      'SELECT * FROM timesheets WHERE "userId" = ? AND "periodStart" = ? AND "deletedAt" IS NULL',
      [user.userId, monday],
      (rows) => {
        timesheet = rows[0] ?? null;
        renderTimesheet();
      },
    ),
  ];
}

function renderTimesheet() {
  const status = timesheet?.status ?? 'no timesheet yet';
  $('#timesheet').textContent = `Timesheet: ${status}${
    timesheet?.submittedAt ? ` (submitted ${timesheet.submittedAt.slice(0, 16).replace('T', ' ')})` : ''
  }`;
  const editable = !timesheet || timesheet.status === 'DRAFT' || timesheet.status === 'REJECTED';
  $('#submit-week').disabled = !editable || entries.length === 0;
}

function renderEntries() {
  const body = $('#entries tbody');
  body.replaceChildren();
  let total = 0;
  for (const e of entries) {
    total += e.durationMin;
    const tr = document.createElement('tr');
    tr.dataset.testid = `entry-${e.id}`;
    tr.dataset.id = e.id;
    const cell = (child) => {
      const td = document.createElement('td');
      if (typeof child === 'string') td.textContent = child;
      else td.append(child);
      tr.append(td);
    };
    cell(weekdayName(e.day));
    cell(e.action ?? '?');
    cell(editor('minutes', 'number', e.durationMin, (v) => update(e.id, '"durationMin"', Number(v))));
    const mode = document.createElement('select');
    mode.name = 'mode';
    fillSelect(mode, ['office', 'remote', 'hybrid'].map((m) => [m, m]), e.workMode);
    mode.onchange = () => update(e.id, '"workMode"', mode.value);
    cell(mode);
    cell(e.country);
    cell(editor('note', 'text', e.note ?? '', (v) => update(e.id, 'note', v === '' ? null : v)));
    const del = document.createElement('button');
    del.type = 'button';
    del.textContent = 'Delete';
    del.dataset.testid = 'delete';
    del.onclick = () => run(() => db.execute('DELETE FROM timesheet_entries WHERE id = ?', [e.id]));
    cell(del);
    body.append(tr);
  }
  $('#total').textContent = `${total} min (${(total / 60).toFixed(1)} h)`;
  renderTimesheet();
}

function editor(name, type, value, save) {
  const input = document.createElement('input');
  input.name = name;
  input.type = type;
  input.value = value;
  input.onchange = () => save(input.value);
  return input;
}

function fillSelect(select, options, selected) {
  select.replaceChildren();
  for (const [value, label] of options) {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = label;
    if (value === selected) o.selected = true;
    select.append(o);
  }
}

// --- Writes -------------------------------------------------------------------------------------

async function run(fn) {
  $('#form-error').hidden = true;
  try {
    await fn();
  } catch (e) {
    showError('#form-error', e);
  }
}

function showError(selector, e) {
  const p = $(selector);
  p.hidden = false;
  p.textContent = e.code ? `${e.code}: ${e.detail}` : String(e.message ?? e);
}

function update(id, column, value) {
  return run(() =>
    db.execute(`UPDATE timesheet_entries SET ${column} = ?, "updatedAt" = ${NOW_SQL} WHERE id = ?`, [
      value,
      id,
    ]),
  );
}

async function addEntry(event) {
  event.preventDefault();
  const form = event.target;
  const f = new FormData(form);
  form.elements.note.value = '';
  await run(() =>
    db.execute(
      `INSERT INTO timesheet_entries (id, "companyId", "userId", "timesheetId", "actionCodeId",
                                      "workMode", country, "durationMin", day, note)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        crypto.randomUUID(),
        user.companyId,
        user.userId,
        timesheet?.id ?? null,
        f.get('action'),
        f.get('mode'),
        String(f.get('country')).toUpperCase(),
        Number(f.get('minutes')),
        f.get('day'),
        f.get('note') || null,
      ],
    ),
  );
}

// Submits the week: its timesheet (created when the week has none) becomes SUBMITTED with the
// week's total, and the week's entries point at it; one transaction.
async function submitWeek() {
  await run(() =>
    db.transaction(async (tx) => {
      const total = entries.reduce((sum, e) => sum + e.durationMin, 0);
      let id = timesheet?.id;
      if (!id) {
        id = crypto.randomUUID();
        await tx.execute(
          `INSERT INTO timesheets (id, "companyId", "userId", "periodStart", "periodEnd", status,
                                   "submittedAt", "submittedByUserId", "totalMinutes")
           VALUES (?, ?, ?, ?, ?, 'SUBMITTED', ${NOW_SQL}, ?, ?)`,
          [id, user.companyId, user.userId, week, addDays(week, 6), user.userId, total],
        );
      } else {
        await tx.execute(
          `UPDATE timesheets SET status = 'SUBMITTED', "submittedAt" = ${NOW_SQL},
                  "submittedByUserId" = ?, "totalMinutes" = ?, "updatedAt" = ${NOW_SQL}
            WHERE id = ?`,
          [user.userId, total, id],
        );
      }
      await tx.execute(
        `UPDATE timesheet_entries SET "timesheetId" = ?
          WHERE "userId" = ? AND day BETWEEN ? AND ? AND "timesheetId" IS NOT ?`,
        [id, user.userId, week, addDays(week, 6), id],
      );
    }),
  );
}

// --- Sync status and rejections -------------------------------------------------------------

function renderStatus(s) {
  const net = $('#net');
  let label = 'online';
  if (s.online === false || s.lastError?.code === 'unavailable') label = 'offline';
  else if (s.lastError) label = 'sync error';
  else if (s.syncing) label = 'syncing';
  net.textContent = label;
  net.className = `pill ${label.replace(' ', '-')}`;
  $('#pending').textContent = String(s.pending);
  $('#pending').className = `badge${s.pending ? ' has-pending' : ''}`;
  $('#last-sync').textContent = s.lastSync
    ? `last sync ${new Date(s.lastSync).toLocaleTimeString()}`
    : 'never synced';
  const err = $('#sync-error');
  err.hidden = !s.lastError || s.lastError.code === 'unavailable';
  if (s.lastError) err.textContent = `Sync: ${s.lastError.code}: ${s.lastError.message}`;
}

function renderRejections(list) {
  const panel = $('#rejections');
  panel.hidden = list.length === 0;
  const ul = panel.querySelector('ul');
  ul.replaceChildren();
  for (const r of list) {
    const li = document.createElement('li');
    li.dataset.testid = 'rejection';
    const what = r.mutations
      .map((m) => `${m.op} ${m.table}`)
      .join(', ');
    li.textContent = `${what || 'a change'}: ${r.code} (${r.message}) `;
    const dismiss = document.createElement('button');
    dismiss.type = 'button';
    dismiss.textContent = 'Dismiss';
    dismiss.onclick = async () => {
      await db.dismissRejection(r.id);
      renderRejections(await db.rejections());
    };
    li.append(dismiss);
    ul.append(li);
  }
}

// --- Wiring -------------------------------------------------------------------------------------

$('#add-entry').addEventListener('submit', addEntry);
$('#submit-week').onclick = submitWeek;
$('#prev-week').onclick = () => showWeek(addDays(week, -7));
$('#next-week').onclick = () => showWeek(addDays(week, 7));
$('#this-week').onclick = () => showWeek(mondayOf(today()));
$('#latest-week').onclick = async () => showWeek(await latestWeek());
$('#sync-now').onclick = () => db?.sync().catch(() => {});
$('#sign-out').onclick = signOut;
window.addEventListener('hashchange', () => {
  const m = /week=(\d{4}-\d{2}-\d{2})/.exec(location.hash);
  if (db && m && mondayOf(m[1]) !== week) showWeek(mondayOf(m[1]));
});

// The app shell for starting offline (sw.js).
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch((e) => console.warn('no offline start:', e));
}

start().catch((e) => {
  document.body.textContent = `GoGoTime failed to start: ${e.message}`;
});
