// The developer portal: a page of the platform itself that calls its API
// with the developer's subscription key. The key stays in sessionStorage
// (this tab, until it closes or the developer signs out): never in a URL, a
// cookie or a log. Every text the API returns is set as text, never as HTML.
'use strict';

const KEY = 'dcp-portal-key';
const LANG = 'dcp-portal-lang';

const T = {
  it: {
    skip: 'Vai al contenuto', title: 'Cittadinanza Digitale', tagline: 'Portale per gli sviluppatori delle PA', other: 'English',
    signout: 'Esci', sections: 'Sezioni', footer: 'La chiave resta in questa scheda (sessionStorage) e non lascia il browser se non verso questa API.',
    signinTitle: 'Accedi con la chiave della sottoscrizione', keyLabel: 'Chiave della sottoscrizione (Ocp-Apim-Subscription-Key)',
    signin: 'Accedi', badKey: 'Chiave non valida o senza il gruppo ApiMessageRead.', checking: 'Verifica in corso…',
    tabSandbox: 'Prova', tabSent: 'Messaggi inviati', tabCallbacks: 'Callback', tabQuick: 'Primi passi',
    sandboxTitle: 'Prova: un profilo di sviluppo e un messaggio di prova',
    sandboxIntro: 'Crea un profilo di sviluppo (serve il gruppo ApiDevelopmentProfileWrite), poi invia un messaggio e seguine lo stato senza ricaricare la pagina.',
    fiscalCode: 'Codice fiscale di prova (del tipo AAAAAA00A00Y000X)', email: 'Indirizzo e-mail del profilo', createProfile: 'Crea il profilo',
    profileOk: 'Profilo di sviluppo creato.', subject: 'Oggetto', markdown: 'Testo (markdown, almeno 80 caratteri)', send: 'Invia il messaggio',
    sentOk: 'Messaggio accettato:', status: 'Stato', channel: 'Canale', reason: 'Motivo', created: 'Creato', final: 'Stato finale raggiunto.',
    sentTitle: 'Messaggi inviati dal servizio', filters: 'Filtri', any: 'qualsiasi', reference: 'Riferimento', since: 'Dal', until: 'Al',
    emailOutcome: 'Esito e-mail', search: 'Cerca', next: 'Pagina successiva', none: 'Nessun messaggio.', id: 'Id', fc: 'Codice fiscale',
    channels: 'Canali', caption: 'Messaggi del servizio, dal più recente',
    cbTitle: 'Callback di consegna', cbNone: 'Nessuna callback configurata.', cbUrl: 'URL (https)', cbToken: 'Bearer token (facoltativo)',
    cbSave: 'Salva', cbDelete: 'Elimina', cbSecret: 'Segreto di firma (mostrato solo ora):', cbStatus: 'Stato', cbEvents: 'Eventi',
    cbFailures: 'Errori recenti', saved: 'Salvato.', deleted: 'Eliminata.',
    quickTitle: 'Primi passi', quickIntro: 'Invia un messaggio con la tua chiave: curl, Go e TypeScript.',
    error: 'Errore',
  },
  en: {
    skip: 'Skip to content', title: 'Digital Citizenship', tagline: 'Portal for public administrations\u2019 developers', other: 'Italiano',
    signout: 'Sign out', sections: 'Sections', footer: 'The key stays in this tab (sessionStorage) and leaves the browser only for this API.',
    signinTitle: 'Sign in with your subscription key', keyLabel: 'Subscription key (Ocp-Apim-Subscription-Key)',
    signin: 'Sign in', badKey: 'The key is not valid or lacks the group ApiMessageRead.', checking: 'Checking…',
    tabSandbox: 'Sandbox', tabSent: 'Sent messages', tabCallbacks: 'Callbacks', tabQuick: 'Quick start',
    sandboxTitle: 'Sandbox: a development profile and a test message',
    sandboxIntro: 'Create a development profile (the group ApiDevelopmentProfileWrite is needed), then send it a message and watch its status without reloading.',
    fiscalCode: 'Test fiscal code (of the form AAAAAA00A00Y000X)', email: 'The profile\u2019s e-mail address', createProfile: 'Create the profile',
    profileOk: 'Development profile created.', subject: 'Subject', markdown: 'Text (markdown, at least 80 characters)', send: 'Send the message',
    sentOk: 'Message accepted:', status: 'Status', channel: 'Channel', reason: 'Reason', created: 'Created', final: 'Final status reached.',
    sentTitle: 'Messages the service sent', filters: 'Filters', any: 'any', reference: 'Reference', since: 'Since', until: 'Until',
    emailOutcome: 'E-mail outcome', search: 'Search', next: 'Next page', none: 'No message.', id: 'Id', fc: 'Fiscal code',
    channels: 'Channels', caption: 'The service\u2019s messages, newest first',
    cbTitle: 'Delivery callbacks', cbNone: 'No callback configured.', cbUrl: 'URL (https)', cbToken: 'Bearer token (optional)',
    cbSave: 'Save', cbDelete: 'Delete', cbSecret: 'Signing secret (shown only now):', cbStatus: 'Status', cbEvents: 'Events',
    cbFailures: 'Recent failures', saved: 'Saved.', deleted: 'Deleted.',
    quickTitle: 'Quick start', quickIntro: 'Send a message with your key: curl, Go and TypeScript.',
    error: 'Error',
  },
};

let lang = localStorage.getItem(LANG) === 'en' ? 'en' : 'it';
const t = (k) => T[lang][k] || k;

// h builds an element: attributes (on* are listeners), then children
// (strings are text nodes).
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const key = () => sessionStorage.getItem(KEY);

// api calls the platform's API with the key; it returns {status, body}.
async function api(method, path, body) {
  const init = { method, headers: { 'Ocp-Apim-Subscription-Key': key() || '' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  return { status: res.status, body: data };
}

// problem renders a problem+json answer (or any failure) as an alert.
function problem(r) {
  const b = r.body && typeof r.body === 'object' ? r.body : {};
  const text = [b.title || `HTTP ${r.status}`, b.detail].filter(Boolean).join(': ');
  return h('div', { class: 'alert alert-danger', role: 'alert' }, `${t('error')} ${r.status}: ${text}`);
}

function field(id, label, attrs) {
  return h('div', { class: 'form-group mb-3' },
    h('label', { for: id, class: 'active' }, label),
    h('input', Object.assign({ id, class: 'form-control', type: 'text' }, attrs)));
}

const main = () => document.getElementById('main');

function mount(...nodes) {
  const m = main();
  m.replaceChildren(...nodes);
}

// --- Sign in --------------------------------------------------------------

function signin() {
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const k = document.getElementById('key').value.trim();
    if (!k) return;
    out.replaceChildren(t('checking'));
    sessionStorage.setItem(KEY, k);
    const r = await api('GET', '/api/v1/messages?page_size=1');
    if (r.status !== 200) {
      sessionStorage.removeItem(KEY);
      out.replaceChildren(h('div', { class: 'alert alert-danger', role: 'alert' }, t('badKey')));
      return;
    }
    location.hash = '#/sandbox';
    render();
  } },
  field('key', t('keyLabel'), { type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' }),
  h('button', { type: 'submit', class: 'btn btn-primary', id: 'signin' }, t('signin')));
  mount(h('h1', { class: 'h3' }, t('signinTitle')), form, out);
}

// --- Sandbox --------------------------------------------------------------

const FINAL = ['PROCESSED', 'REJECTED', 'FAILED', 'CANCELLED'];
const CHANNEL_FINAL = ['SENT', 'FAILED', 'EXPIRED'];

function timeline(m) {
  const msg = m.message || {};
  const items = [h('li', {}, `${t('created')}: ${msg.created_at || ''}`)];
  const cls = m.status === 'PROCESSED' ? 'final-good' : (m.status === 'REJECTED' || m.status === 'FAILED' ? 'final-bad' : '');
  items.push(h('li', { class: cls }, `${t('status')}: ${m.status}`, m.rejection_reason ? ` (${m.rejection_reason})` : ''));
  const n = m.notification || {};
  for (const ch of Object.keys(n).sort()) {
    const st = n[ch];
    const c = st === 'SENT' ? 'final-good' : (st === 'FAILED' || st === 'EXPIRED' ? 'final-bad' : '');
    items.push(h('li', { class: c, 'data-channel': ch }, `${t('channel')} ${ch}: ${st}`));
  }
  return h('ol', { class: 'portal-timeline', id: 'timeline' }, items);
}

// isFinal: the message's status and every channel's are final. A channel
// shows once it has a status, so a processed message without any is given
// 20 s for its channels to show (a citizen may have none).
function isFinal(m, processedFor) {
  if (!FINAL.includes(m.status)) return false;
  const channels = Object.values(m.notification || {});
  if (m.status === 'PROCESSED' && channels.length === 0 && processedFor < 20000) return false;
  return channels.every((s) => CHANNEL_FINAL.includes(s));
}

function sandbox() {
  const out = h('div', { 'aria-live': 'polite', id: 'sandbox-out' });
  const fc = 'AAAAAA00A00Y000X';
  const profile = h('form', { novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const r = await api('POST', `/adm/development-profiles/${encodeURIComponent(val('fc'))}`, { email: val('email') });
    out.replaceChildren(r.status === 200 ? h('div', { class: 'alert alert-success', role: 'status' }, t('profileOk')) : problem(r));
  } },
  field('fc', t('fiscalCode'), { value: fc, maxlength: 16, required: true, autocomplete: 'off' }),
  field('email', t('email'), { type: 'email', value: 'sandbox@example.com', required: true }),
  h('button', { type: 'submit', class: 'btn btn-outline-primary', id: 'sandbox-profile' }, t('createProfile')));
  const send = h('form', { novalidate: true, class: 'mt-5', onsubmit: async (e) => {
    e.preventDefault();
    const r = await api('POST', `/api/v1/messages/${encodeURIComponent(val('fc'))}`,
      { content: { subject: val('subject'), markdown: val('markdown') } });
    if (r.status !== 201) {
      out.replaceChildren(problem(r));
      return;
    }
    follow(val('fc'), r.body.id, out);
  } },
  field('subject', t('subject'), { value: 'Messaggio di prova dal portale', required: true }),
  h('div', { class: 'form-group mb-3' }, h('label', { for: 'markdown', class: 'active' }, t('markdown')),
    h('textarea', { id: 'markdown', class: 'form-control', rows: 3 },
      'Questo è un messaggio di prova inviato dal portale per gli sviluppatori: serve a verificare la consegna su ogni canale.')),
  h('button', { type: 'submit', class: 'btn btn-primary', id: 'sandbox-send' }, t('send')));
  mount(h('h1', { class: 'h3' }, t('sandboxTitle')), h('p', { class: 'mb-4' }, t('sandboxIntro')), profile, send, out);
}

const val = (id) => document.getElementById(id).value.trim();

// follow polls a message every second and redraws its timeline until it
// and every channel are final.
async function follow(fc, id, out) {
  const head = h('p', {}, `${t('sentOk')} `, h('code', { id: 'message-id' }, id));
  const live = h('div', {});
  out.replaceChildren(head, live);
  let processedAt = 0;
  for (let i = 0; i < 300 && document.body.contains(live); i++) {
    const r = await api('GET', `/api/v1/messages/${encodeURIComponent(fc)}/${encodeURIComponent(id)}`);
    if (r.status !== 200) {
      live.replaceChildren(problem(r));
      return;
    }
    live.replaceChildren(timeline(r.body));
    if (r.body.status === 'PROCESSED' && !processedAt) processedAt = Date.now();
    if (isFinal(r.body, processedAt ? Date.now() - processedAt : 0)) {
      live.append(h('p', { class: 'text-success', role: 'status', id: 'final' }, t('final')));
      return;
    }
    await new Promise((ok) => setTimeout(ok, 1000));
  }
}

// --- Sent messages --------------------------------------------------------

function select(id, label, options) {
  return h('div', { class: 'select-wrapper mb-4' }, h('label', { for: id }, label),
    h('select', { id }, h('option', { value: '' }, t('any')),
      options.map((o) => h('option', { value: o }, o))));
}

function sent() {
  const results = h('div', { 'aria-live': 'polite', id: 'sent-results' });
  const form = h('form', { novalidate: true, class: 'row', onsubmit: (e) => {
    e.preventDefault();
    const q = new URLSearchParams({ page_size: '20' });
    for (const [id, name] of [['f-status', 'status'], ['f-reference', 'reference'], ['f-email', 'email']]) {
      if (val(id)) q.set(name, val(id));
    }
    for (const [id, name] of [['f-since', 'since'], ['f-until', 'until']]) {
      if (val(id)) q.set(name, new Date(val(id)).toISOString());
    }
    page(`/api/v1/messages?${q}`, results, true);
  } },
  h('div', { class: 'col-md-4' }, select('f-status', t('status'), ['ACCEPTED', 'SCHEDULED', 'PROCESSED', 'REJECTED', 'FAILED', 'CANCELLED'])),
  h('div', { class: 'col-md-4' }, select('f-email', t('emailOutcome'), ['SENT', 'FAILED', 'EXPIRED', 'THROTTLED'])),
  h('div', { class: 'col-md-4' }, field('f-reference', t('reference'), { autocomplete: 'off' })),
  h('div', { class: 'col-md-4' }, field('f-since', t('since'), { type: 'datetime-local' })),
  h('div', { class: 'col-md-4' }, field('f-until', t('until'), { type: 'datetime-local' })),
  h('div', { class: 'col-md-4' }, h('button', { type: 'submit', class: 'btn btn-primary mt-4', id: 'search' }, t('search'))));
  mount(h('h1', { class: 'h3' }, t('sentTitle')), h('h2', { class: 'h5 mb-4' }, t('filters')), form, results);
  page('/api/v1/messages?page_size=20', results, true);
}

async function page(path, results, fresh) {
  const r = await api('GET', path);
  if (r.status !== 200) {
    results.replaceChildren(problem(r));
    return;
  }
  const items = r.body.items || [];
  if (fresh && items.length === 0) {
    results.replaceChildren(h('p', {}, t('none')));
    return;
  }
  const rows = items.map((m) => h('tr', {},
    h('td', {}, h('code', {}, m.id)), h('td', {}, m.fiscal_code), h('td', {}, m.created_at),
    h('td', {}, m.status, m.rejection_reason ? ` (${m.rejection_reason})` : ''),
    h('td', {}, Object.entries(m.notification || {}).map(([c, s]) => `${c} ${s}`).join(', ')),
    h('td', {}, m.reference || '')));
  let table = results.querySelector('table');
  if (fresh || !table) {
    table = h('table', { class: 'table table-sm' }, h('caption', {}, t('caption')),
      h('thead', {}, h('tr', {}, [t('id'), t('fc'), t('created'), t('status'), t('channels'), t('reference')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}));
    results.replaceChildren(table);
  }
  table.querySelector('tbody').append(...rows);
  results.querySelector('#next')?.remove();
  if (r.body.next) {
    results.append(h('button', { type: 'button', class: 'btn btn-outline-primary', id: 'next',
      onclick: () => page(r.body.next, results, false) }, t('next')));
  }
}

// --- Callbacks ------------------------------------------------------------

async function callbacks() {
  const out = h('div', { 'aria-live': 'polite', id: 'cb-out' });
  const current = h('div', { id: 'cb-current' });
  const show = async () => {
    const r = await api('GET', '/api/v1/callback');
    if (r.status === 404) {
      current.replaceChildren(h('p', {}, t('cbNone')));
      return;
    }
    if (r.status !== 200) {
      current.replaceChildren(problem(r));
      return;
    }
    const c = r.body;
    current.replaceChildren(h('dl', {},
      h('dt', {}, 'URL'), h('dd', {}, c.url),
      h('dt', {}, t('cbStatus')), h('dd', { id: 'cb-status' }, c.status),
      h('dt', {}, t('cbEvents')), h('dd', {}, (c.events || []).join(', ')),
      h('dt', {}, t('cbFailures')), h('dd', {}, (c.recent_failures || []).length
        ? h('ul', {}, c.recent_failures.map((f) => h('li', {}, `${f.at} ${f.event}: ${f.reason}`))) : '–')));
  };
  const form = h('form', { novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const body = { url: val('cb-url') };
    if (val('cb-token')) body.bearer_token = val('cb-token');
    const r = await api('PUT', '/api/v1/callback', body);
    out.replaceChildren(r.status === 200
      ? h('div', { class: 'alert alert-success', role: 'status' }, t('saved'), ' ', t('cbSecret'), ' ', h('code', {}, r.body.signing_secret))
      : problem(r));
    show();
  } },
  field('cb-url', t('cbUrl'), { type: 'url', required: true, autocomplete: 'off' }),
  field('cb-token', t('cbToken'), { type: 'password', autocomplete: 'off' }),
  h('button', { type: 'submit', class: 'btn btn-primary', id: 'cb-save' }, t('cbSave')), ' ',
  h('button', { type: 'button', class: 'btn btn-outline-danger', onclick: async () => {
    const r = await api('DELETE', '/api/v1/callback');
    out.replaceChildren(r.status === 204 ? h('div', { class: 'alert alert-success', role: 'status' }, t('deleted')) : problem(r));
    show();
  } }, t('cbDelete')));
  mount(h('h1', { class: 'h3' }, t('cbTitle')), current, form, out);
  show();
}

// --- Quick start ----------------------------------------------------------

function quickstart() {
  const base = location.origin;
  const k = key();
  const body = '{"content":{"subject":"Avviso TARI 2026","markdown":"Gentile cittadino, è disponibile il nuovo avviso di pagamento della TARI per il 2026: paga entro la scadenza."}}';
  const curl = `curl -s -X POST ${base}/api/v1/messages/AAAAAA00A00Y000X \\\n  -H "Ocp-Apim-Subscription-Key: ${k}" \\\n  -H "Idempotency-Key: tari-2026-0001" \\\n  -d '${body}'`;
  const goSnippet = `req, _ := http.NewRequest("POST", "${base}/api/v1/messages/AAAAAA00A00Y000X",\n\tstrings.NewReader(\`${body}\`))\nreq.Header.Set("Ocp-Apim-Subscription-Key", "${k}")\nreq.Header.Set("Idempotency-Key", "tari-2026-0001")\nres, err := http.DefaultClient.Do(req) // 201: Location names the message`;
  const ts = `const res = await fetch("${base}/api/v1/messages/AAAAAA00A00Y000X", {\n  method: "POST",\n  headers: { "Ocp-Apim-Subscription-Key": "${k}", "Idempotency-Key": "tari-2026-0001" },\n  body: JSON.stringify(${body}),\n});\nconsole.log(res.status, await res.json()); // 201 {id}`;
  mount(h('h1', { class: 'h3' }, t('quickTitle')), h('p', {}, t('quickIntro')),
    ...[['curl', curl], ['Go', goSnippet], ['TypeScript', ts]].flatMap(([name, code]) =>
      [h('h2', { class: 'h5' }, name), h('pre', { class: 'portal-snippet' }, h('code', {}, code))]));
}

// --- Shell ----------------------------------------------------------------

const ROUTES = { '#/sandbox': ['tabSandbox', sandbox], '#/sent': ['tabSent', sent], '#/callbacks': ['tabCallbacks', callbacks],
  '#/quickstart': ['tabQuick', quickstart] };

function chrome() {
  document.documentElement.lang = lang;
  document.title = `${t('title')} – ${t('tagline')}`;
  document.getElementById('skip').textContent = t('skip');
  document.getElementById('brand-title').textContent = t('title');
  document.getElementById('brand-tagline').textContent = t('tagline');
  const langButton = document.getElementById('lang');
  langButton.textContent = t('other');
  langButton.lang = lang === 'it' ? 'en' : 'it';
  const out = document.getElementById('signout');
  out.textContent = t('signout');
  out.classList.toggle('d-none', !key());
  document.getElementById('footer').textContent = t('footer');
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('sections'));
  nav.classList.toggle('d-none', !key());
  document.getElementById('tabs').replaceChildren(...Object.entries(ROUTES).map(([hash, [label]]) =>
    h('li', { class: 'nav-item' }, h('a', { class: `nav-link${location.hash === hash ? ' active' : ''}`, href: hash,
      'aria-current': location.hash === hash ? 'page' : false }, t(label)))));
}

function render() {
  if (!key()) {
    chrome();
    signin();
    return;
  }
  if (!ROUTES[location.hash]) {
    location.hash = '#/sandbox';
    return; // hashchange renders
  }
  chrome();
  ROUTES[location.hash][1]();
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('lang').addEventListener('click', () => {
    lang = lang === 'it' ? 'en' : 'it';
    localStorage.setItem(LANG, lang);
    render();
  });
  document.getElementById('signout').addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    location.hash = '#/';
    render();
  });
  window.addEventListener('hashchange', render);
  render();
});
