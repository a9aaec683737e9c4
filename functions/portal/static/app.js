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
    signin: 'Accedi', badKey: 'Chiave non valida: nessun servizio la riconosce.', checking: 'Verifica in corso…',
    tabSandbox: 'Prova', tabSent: 'Messaggi inviati', tabCallbacks: 'Callback', tabQuick: 'Primi passi',
    sandboxTitle: 'Prova: un profilo di sviluppo e un messaggio di prova',
    sandboxIntro: 'Crea un profilo di sviluppo (serve il gruppo ApiDevelopmentProfileWrite), poi invia un messaggio e seguine lo stato senza ricaricare la pagina.',
    fiscalCode: 'Codice fiscale di prova (del tipo AAAAAA00A00Y000X)', email: 'Indirizzo e-mail del profilo', createProfile: 'Crea il profilo',
    profileOk: 'Profilo di sviluppo creato.', subject: 'Oggetto', markdown: 'Testo (markdown, almeno 80 caratteri)', send: 'Invia il messaggio',
    simTitle: 'Esiti simulati', simIntro: 'Con una chiave di prova (e nell\u2019ambiente locale con qualsiasi chiave) questi cittadini di prova danno sempre lo stesso esito, senza che nulla arrivi a SES, SNS o al backend dell\u2019app. Non serve crearli.',
    simSend: 'Invia a questo', simCaption: 'Cittadini di prova e il loro esito', outcome: 'Esito', retries: 'tentativi ripetuti', isTest: 'Messaggio di prova (chiave TEST, esiti simulati)',
    keyKind: 'Tipo di chiave', keyLive: 'LIVE: raggiunge i cittadini', keyTest: 'TEST: solo profili di sviluppo, esiti simulati, non conteggiata nel limite giornaliero',
    subKind: 'Tipo di chiavi',
    sentOk: 'Messaggio accettato:', status: 'Stato', channel: 'Canale', reason: 'Motivo', created: 'Creato', final: 'Stato finale raggiunto.',
    sentTitle: 'Messaggi inviati dal servizio', filters: 'Filtri', any: 'qualsiasi', reference: 'Riferimento', since: 'Dal', until: 'Al',
    emailOutcome: 'Esito e-mail', pushOutcome: 'Esito push', webhookOutcome: 'Esito webhook', search: 'Cerca',
    timeline: 'Cronologia', scheduled: 'Programmato per', reminder: 'Promemoria', payment: 'Pagamento', read: 'Lettura', next: 'Pagina successiva', none: 'Nessun messaggio.', id: 'Id', fc: 'Codice fiscale',
    channels: 'Canali', caption: 'Messaggi del servizio, dal più recente',
    cbTitle: 'Callback di consegna', cbNone: 'Nessuna callback configurata.', cbUrl: 'URL (https)', cbToken: 'Bearer token (facoltativo)',
    cbSave: 'Salva', cbDelete: 'Elimina', cbSecret: 'Segreto di firma (mostrato solo ora):', cbStatus: 'Stato', cbEvents: 'Eventi',
    cbFailures: 'Errori recenti', saved: 'Salvato.', deleted: 'Eliminata.', cbTest: 'Invia un evento di prova',
    cbTestSent: 'Evento di prova accodato:',
    tabAdmin: 'Amministrazione', adminTitle: 'Amministrazione della piattaforma', adminService: 'Crea o modifica un servizio',
    serviceId: 'Id del servizio', serviceName: 'Nome del servizio', recipientsList: 'Destinatari ammessi (codici fiscali, separati da virgole)',
    cidrsList: 'Indirizzi IP ammessi (CIDR, separati da virgole)', load: 'Carica', create: 'Crea', update: 'Aggiorna',
    adminGroups: 'Gruppi di un utente', userEmail: 'E-mail dell\u2019utente', setGroups: 'Imposta i gruppi',
    adminSubscription: 'Nuova sottoscrizione (le chiavi si vedono solo ora)', createSubscription: 'Crea la sottoscrizione',
    adminKeys: 'Rigenera una chiave', keyType: 'Chiave', regenerate: 'Rigenera', done: 'Fatto.',
    quickTitle: 'Primi passi', quickIntro: 'Invia un messaggio con la tua chiave: curl, Go e TypeScript.',
    quickSim: 'Il codice fiscale degli esempi è un cittadino di prova che riceve tutto. Con una chiave di prova (TEST) questi altri danno sempre lo stesso esito, senza che nulla parta davvero:',
    error: 'Errore',
    tabService: 'Servizio', tabUsage: 'Utilizzo', serviceTitle: 'Il servizio della chiave', name: 'Nome', organization: 'Ente',
    department: 'Ufficio', orgFiscalCode: 'Codice fiscale dell\u2019ente', cidrs: 'Indirizzi IP ammessi', recipients: 'Destinatari ammessi',
    paymentLimit: 'Importo massimo di un avviso (centesimi)', dailyLimit: 'Limite giornaliero di messaggi', reminders: 'Promemoria (secondi prima della scadenza)',
    anyone: 'chiunque', defaults: 'predefiniti', groupsTitle: 'Cosa permette la chiave', noGroups: 'Nessun gruppo: la chiave non può chiamare l\u2019API.',
    usageTitle: 'Utilizzo del limite giornaliero', todayUsed: 'Oggi', of: 'su', remaining: 'restanti', resets: 'si azzera alle',
    chartTitle: 'Messaggi al giorno, ultimi 30 giorni (Europe/Rome)', chartData: 'I dati del grafico', day: 'Giorno', messages: 'Messaggi',
    secure: 'Solo canali sicuri (niente e-mail, push senza oggetto)', deadline: 'Giorni per aprire un messaggio con condizione di apertura', yes: 'sì', no: 'no',
    tabRemote: 'Contenuti remoti', rcTitle: 'Contenuti remoti: i sistemi del servizio',
    rcIntro: 'Il testo e i documenti dei messaggi con contenuto remoto restano nel sistema del servizio: la piattaforma li chiede a ogni apertura (serve il gruppo ApiRemoteContentWrite). Le chiavi non si vedono più dopo averle impostate.',
    rcNone: 'Nessuna configurazione.', rcName: 'Nome', rcDescription: 'Descrizione', rcPrecondition: 'Condizione di apertura',
    rcBaseUrl: 'URL base del sistema (https)', rcHeader: 'Intestazione della chiave', rcKey: 'Chiave', rcType: 'Tipo',
    rcTestUsers: 'Utenti di prova', rcCreate: 'Crea la configurazione', rcCreated: 'Configurazione creata:', rcCaption: 'Le configurazioni del servizio',
    receipt: 'Ricevuta', receiptValid: 'Firma verificata con la chiave pubblicata', receiptInvalid: 'Firma NON valida',
    receiptNone: 'Nessuna ricevuta: il messaggio non è stato aperto.', verifying: 'Verifica della firma…', contentDigest: 'Impronta del contenuto',
    previous: 'Evento precedente', deadlineAt: 'Scadenza',
    groups: {
      ApiMessageWrite: 'inviare messaggi a ogni cittadino', ApiLimitedMessageWrite: 'inviare messaggi solo ai destinatari ammessi',
      ApiMessageWriteDefaultAddress: 'indicare un indirizzo e-mail di riserva', ApiMessageRead: 'leggere i messaggi inviati e il loro stato',
      ApiMessageList: 'leggere la casella di un cittadino', ApiLimitedProfileRead: 'sapere se un cittadino può ricevere i messaggi',
      ApiFullProfileRead: 'leggere il profilo completo di un cittadino', ApiProfileWrite: 'scrivere il profilo di un cittadino',
      ApiPublicServiceRead: 'leggere i servizi', ApiPublicServiceList: 'elencare i servizi visibili',
      ApiServiceByRecipientQuery: 'sapere quali servizi hanno scritto a un cittadino', ApiCallbackWrite: 'configurare le callback di consegna',
      ApiDevelopmentProfileWrite: 'creare profili di sviluppo', ApiInfoRead: 'leggere le informazioni della piattaforma',
      ApiDebugRead: 'vedere la richiesta come la vede la piattaforma', ApiServiceRead: 'amministrare: leggere i servizi',
      ApiServiceWrite: 'amministrare: creare e modificare i servizi', ApiUserAdmin: 'amministrare: utenti, gruppi e chiavi',
      ApiPaymentWrite: 'registrare le ricevute di pagamento', ApiInstallationWrite: 'registrare i dispositivi dei cittadini',
      ApiMessageWriteAdvanced: 'inviare messaggi ADVANCED (stato di lettura e di pagamento, promemoria)',
      ApiRemoteContentWrite: 'configurare i sistemi che custodiscono i contenuti remoti',
    },
  },
  en: {
    skip: 'Skip to content', title: 'Digital Citizenship', tagline: 'Portal for public administrations\u2019 developers', other: 'Italiano',
    signout: 'Sign out', sections: 'Sections', footer: 'The key stays in this tab (sessionStorage) and leaves the browser only for this API.',
    signinTitle: 'Sign in with your subscription key', keyLabel: 'Subscription key (Ocp-Apim-Subscription-Key)',
    signin: 'Sign in', badKey: 'The key is not valid: no service knows it.', checking: 'Checking…',
    tabSandbox: 'Sandbox', tabSent: 'Sent messages', tabCallbacks: 'Callbacks', tabQuick: 'Quick start',
    sandboxTitle: 'Sandbox: a development profile and a test message',
    sandboxIntro: 'Create a development profile (the group ApiDevelopmentProfileWrite is needed), then send it a message and watch its status without reloading.',
    fiscalCode: 'Test fiscal code (of the form AAAAAA00A00Y000X)', email: 'The profile\u2019s e-mail address', createProfile: 'Create the profile',
    profileOk: 'Development profile created.', subject: 'Subject', markdown: 'Text (markdown, at least 80 characters)', send: 'Send the message',
    simTitle: 'Simulated outcomes', simIntro: 'With a test key (and in the local stack with any key) these sandbox citizens always give the same outcome, and nothing reaches SES, SNS or the app backend. There is nothing to create.',
    simSend: 'Send to this one', simCaption: 'Sandbox citizens and their outcome', outcome: 'Outcome', retries: 'retried attempts', isTest: 'Test message (TEST key, simulated outcomes)',
    keyKind: 'Key type', keyLive: 'LIVE: reaches citizens', keyTest: 'TEST: development profiles only, simulated outcomes, not counted in the daily limit',
    subKind: 'Kind of keys',
    sentOk: 'Message accepted:', status: 'Status', channel: 'Channel', reason: 'Reason', created: 'Created', final: 'Final status reached.',
    sentTitle: 'Messages the service sent', filters: 'Filters', any: 'any', reference: 'Reference', since: 'Since', until: 'Until',
    emailOutcome: 'E-mail outcome', pushOutcome: 'Push outcome', webhookOutcome: 'Webhook outcome', search: 'Search',
    timeline: 'Timeline', scheduled: 'Scheduled for', reminder: 'Reminder', payment: 'Payment', read: 'Read', next: 'Next page', none: 'No message.', id: 'Id', fc: 'Fiscal code',
    channels: 'Channels', caption: 'The service\u2019s messages, newest first',
    cbTitle: 'Delivery callbacks', cbNone: 'No callback configured.', cbUrl: 'URL (https)', cbToken: 'Bearer token (optional)',
    cbSave: 'Save', cbDelete: 'Delete', cbSecret: 'Signing secret (shown only now):', cbStatus: 'Status', cbEvents: 'Events',
    cbFailures: 'Recent failures', saved: 'Saved.', deleted: 'Deleted.', cbTest: 'Send a test event',
    cbTestSent: 'Test event queued:',
    tabAdmin: 'Administration', adminTitle: 'The platform\u2019s administration', adminService: 'Create or update a service',
    serviceId: 'Service id', serviceName: 'Service name', recipientsList: 'Allowed recipients (fiscal codes, comma-separated)',
    cidrsList: 'Allowed source addresses (CIDRs, comma-separated)', load: 'Load', create: 'Create', update: 'Update',
    adminGroups: 'A user\u2019s groups', userEmail: 'The user\u2019s e-mail', setGroups: 'Set the groups',
    adminSubscription: 'A new subscription (its keys are shown only now)', createSubscription: 'Create the subscription',
    adminKeys: 'Regenerate a key', keyType: 'Key', regenerate: 'Regenerate', done: 'Done.',
    quickTitle: 'Quick start', quickIntro: 'Send a message with your key: curl, Go and TypeScript.',
    quickSim: 'The examples\u2019 fiscal code is a sandbox citizen who gets everything. With a test key (TEST) these others always give the same outcome, and nothing is really sent:',
    error: 'Error',
    tabService: 'Service', tabUsage: 'Usage', serviceTitle: 'The key\u2019s service', name: 'Name', organization: 'Organization',
    department: 'Department', orgFiscalCode: 'Organization\u2019s fiscal code', cidrs: 'Allowed source addresses', recipients: 'Allowed recipients',
    paymentLimit: 'Largest payment notice (cents)', dailyLimit: 'Daily message limit', reminders: 'Reminders (seconds before the due date)',
    anyone: 'anyone', defaults: 'the defaults', groupsTitle: 'What the key allows', noGroups: 'No group: the key cannot call the API.',
    usageTitle: 'Use of the daily limit', todayUsed: 'Today', of: 'of', remaining: 'remaining', resets: 'resets at',
    chartTitle: 'Messages a day, last 30 days (Europe/Rome)', chartData: 'The chart\u2019s data', day: 'Day', messages: 'Messages',
    secure: 'Secure channels only (no e-mail, push without subject)', deadline: 'Days to open a message with an opening condition', yes: 'yes', no: 'no',
    tabRemote: 'Remote content', rcTitle: 'Remote content: the service\u2019s systems',
    rcIntro: 'The text and documents of messages with remote content stay in the service\u2019s system: the platform asks for them at each opening (the group ApiRemoteContentWrite is needed). Keys are never shown once set.',
    rcNone: 'No configuration.', rcName: 'Name', rcDescription: 'Description', rcPrecondition: 'Opening condition',
    rcBaseUrl: 'The system\u2019s base URL (https)', rcHeader: 'The key\u2019s header', rcKey: 'Key', rcType: 'Type',
    rcTestUsers: 'Test users', rcCreate: 'Create the configuration', rcCreated: 'Configuration created:', rcCaption: 'The service\u2019s configurations',
    receipt: 'Receipt', receiptValid: 'Signature verified with the published key', receiptInvalid: 'Signature NOT valid',
    receiptNone: 'No receipt: the message was not opened.', verifying: 'Verifying the signature…', contentDigest: 'Content digest',
    previous: 'Previous event', deadlineAt: 'Deadline',
    groups: {
      ApiMessageWrite: 'send messages to any citizen', ApiLimitedMessageWrite: 'send messages to the allowed recipients only',
      ApiMessageWriteDefaultAddress: 'give a fallback e-mail address', ApiMessageRead: 'read the messages sent and their status',
      ApiMessageList: 'read a citizen\u2019s inbox', ApiLimitedProfileRead: 'know whether a citizen can receive messages',
      ApiFullProfileRead: 'read a citizen\u2019s whole profile', ApiProfileWrite: 'write a citizen\u2019s profile',
      ApiPublicServiceRead: 'read services', ApiPublicServiceList: 'list the visible services',
      ApiServiceByRecipientQuery: 'know which services wrote to a citizen', ApiCallbackWrite: 'configure delivery callbacks',
      ApiDevelopmentProfileWrite: 'create development profiles', ApiInfoRead: 'read the platform\u2019s information',
      ApiDebugRead: 'see a request as the platform sees it', ApiServiceRead: 'administer: read services',
      ApiServiceWrite: 'administer: create and update services', ApiUserAdmin: 'administer: users, groups and keys',
      ApiPaymentWrite: 'record payment receipts', ApiInstallationWrite: 'register citizens\u2019 devices',
      ApiMessageWriteAdvanced: 'send ADVANCED messages (read and payment status, reminders)',
      ApiRemoteContentWrite: 'configure the systems that keep remote content',
    },
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

// getMessage reads one message as its sender sees it (getMessage).
const getMessage = (fc, id) => api('GET', `/api/v1/messages/${encodeURIComponent(fc)}/${encodeURIComponent(id)}`);

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
    const r = await readService();
    if (r.status !== 200) {
      sessionStorage.removeItem(KEY);
      out.replaceChildren(h('div', { class: 'alert alert-danger', role: 'alert' }, t('badKey')));
      return;
    }
    me = r.body.groups;
    fresh = r;
    if (location.hash === '#/service') render();
    else location.hash = '#/service'; // hashchange renders
  } },
  field('key', t('keyLabel'), { type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' }),
  h('button', { type: 'submit', class: 'btn btn-primary', id: 'signin' }, t('signin')));
  mount(h('h1', { class: 'h3' }, t('signinTitle')), form, out);
}

// --- Sandbox --------------------------------------------------------------

const FINAL = ['PROCESSED', 'REJECTED', 'FAILED', 'CANCELLED'];
const CHANNEL_FINAL = ['SENT', 'FAILED', 'EXPIRED', 'SKIPPED'];

// timeline draws a message as getMessage shows it: created (and scheduled),
// processed or rejected with the reason, each channel with why it failed,
// the reminders sent, the payment and the reading.
function timeline(m, id) {
  const msg = m.message || {};
  const tone = (s) => (['PROCESSED', 'SENT', 'PAID', 'READ'].includes(s) ? 'final-good'
    : (['REJECTED', 'FAILED', 'EXPIRED'].includes(s) ? 'final-bad' : ''));
  const items = [h('li', {}, `${t('created')}: ${msg.created_at || ''}`)];
  if (m.scheduled_at) items.push(h('li', {}, `${t('scheduled')}: ${m.scheduled_at}`));
  items.push(h('li', { class: tone(m.status) }, `${t('status')}: ${m.status}`, m.rejection_reason ? ` (${m.rejection_reason})` : '',
    m.rejection_detail ? `: ${m.rejection_detail}` : '', m.failure_reason ? `: ${m.failure_reason}` : ''));
  const n = m.notification || {};
  const why = Object.assign({}, m.notification_failures, m.notification_skipped);
  const retried = m.notification_retries || {};
  for (const ch of Object.keys(n).sort()) {
    items.push(h('li', { class: tone(n[ch]), 'data-channel': ch }, `${t('channel')} ${ch}: ${n[ch]}`,
      retried[ch] ? ` – ${retried[ch]} ${t('retries')}` : '', why[ch] ? ` (${why[ch]})` : ''));
  }
  if (m.is_test) items.push(h('li', { class: 'is-test' }, t('isTest')));
  for (const r of m.reminders || []) {
    const on = Object.entries(r.channels || {}).map(([c, st]) => `${c} ${st}`).join(', ');
    items.push(h('li', {}, `${t('reminder')} (${r.offset_seconds} s): ${r.sent_at}`, on ? ` – ${on}` : ''));
  }
  if (m.payment_status) items.push(h('li', { class: tone(m.payment_status) }, `${t('payment')}: ${m.payment_status}`, m.paid_at ? ` (${m.paid_at})` : ''));
  if (m.read_status) items.push(h('li', { class: tone(m.read_status) }, `${t('read')}: ${m.read_status}`));
  return h('ol', { class: 'portal-timeline', id }, items);
}

// isFinal: the message's status and every channel's are final. A channel
// shows once it has a status (its first attempt's), so a processed message
// is given 3 s for its other channels to show, 20 s when none has (a
// citizen may have none): one channel may be final before another shows.
function isFinal(m, processedFor) {
  if (!FINAL.includes(m.status)) return false;
  const channels = Object.values(m.notification || {});
  if (m.status === 'PROCESSED' && processedFor < (channels.length === 0 ? 20000 : 3000)) return false;
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
  const sim = h('div', { class: 'mt-5' });
  mount(h('h1', { class: 'h3' }, t('sandboxTitle')), h('p', { class: 'mb-4' }, t('sandboxIntro')), profile, send, out, sim);
  simulated(sim, out);
}

// simulated lists the documented sandbox citizens (served with the page,
// from pkg/sandbox), each with a button that sends it the form's message.
async function simulated(box, out) {
  const res = await fetch('simulated-citizens.json');
  if (!res.ok) return;
  const citizens = await res.json();
  const rows = citizens.map((c) => h('tr', { 'data-outcome': c.outcome },
    h('td', {}, h('code', {}, c.fiscal_code)), h('td', {}, c.email ? h('code', {}, c.email) : '–'),
    h('td', {}, h('strong', {}, c.outcome), h('br', {}), c.description),
    h('td', {}, h('button', { type: 'button', class: 'btn btn-sm btn-outline-primary', id: `sim-${c.outcome}`, onclick: async () => {
      document.getElementById('fc').value = c.fiscal_code;
      const r = await api('POST', `/api/v1/messages/${encodeURIComponent(c.fiscal_code)}`,
        { content: { subject: val('subject'), markdown: val('markdown') } });
      if (r.status !== 201) {
        out.replaceChildren(problem(r));
        return;
      }
      out.scrollIntoView();
      follow(c.fiscal_code, r.body.id, out);
    } }, t('simSend')))));
  box.replaceChildren(h('h2', { class: 'h5' }, t('simTitle')), h('p', {}, t('simIntro')),
    h('table', { class: 'table table-sm', id: 'simulated' }, h('caption', {}, t('simCaption')),
      h('thead', {}, h('tr', {}, [t('fc'), t('email'), t('outcome'), ''].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows)));
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
    const r = await getMessage(fc, id);
    if (r.status !== 200) {
      live.replaceChildren(problem(r));
      return;
    }
    live.replaceChildren(timeline(r.body, 'timeline'));
    if (r.body.status === 'PROCESSED' && !processedAt) processedAt = Date.now();
    if (isFinal(r.body, processedAt ? Date.now() - processedAt : 0)) {
      live.append(h('p', { class: 'text-success', role: 'status', id: 'final' }, t('final')));
      return;
    }
    await new Promise((ok) => setTimeout(ok, 1000));
  }
}

// --- The service and its usage ---------------------------------------------

// The answer read to learn the key's groups (at sign-in, or on a reload)
// serves the page drawn right after it: one read of the service (5 of its
// counters) per navigation. render drops it once the page has taken it.
let fresh = null;
const readService = () => api('GET', '/api/v1/service');
const ownService = () => {
  const r = fresh;
  fresh = null;
  return r ? Promise.resolve(r) : readService();
};

// The pages that wait for the API draw into a box of their own: one left
// for another page meanwhile draws nothing on it.
async function service() {
  const box = h('div', {});
  mount(h('h1', { class: 'h3' }, t('serviceTitle')), box);
  const r = await ownService();
  if (r.status !== 200) {
    box.append(problem(r));
    return;
  }
  const s = r.body.service;
  const list = (xs) => (xs && xs.length ? xs.join(', ') : t('anyone'));
  const rows = [[t('name'), `${s.service_name} (${s.service_id})`], [t('organization'), s.organization_name],
    [t('department'), s.department_name], [t('orgFiscalCode'), s.organization_fiscal_code], [t('cidrs'), list(s.authorized_cidrs)],
    [t('recipients'), list(s.authorized_recipients)], [t('paymentLimit'), s.max_allowed_payment_amount],
    [t('dailyLimit'), s.daily_message_limit], [t('reminders'), s.reminder_offsets ? s.reminder_offsets.join(', ') : t('defaults')],
    [t('secure'), s.require_secure_channels ? t('yes') : t('no')], [t('deadline'), s.opening_deadline_days],
    [t('keyKind'), r.body.key_type === 'TEST' ? t('keyTest') : t('keyLive')]];
  const groups = r.body.groups || [];
  box.append(h('dl', { id: 'service' }, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v ?? ''))])),
    h('h2', { class: 'h5' }, t('groupsTitle')),
    groups.length ? h('ul', { id: 'groups' }, groups.map((g) => h('li', {}, h('code', {}, g), ': ', T[lang].groups[g] || g)))
      : h('p', {}, t('noGroups')));
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children.flat()) el.append(c instanceof Node ? c : String(c));
  return el;
}

// chart draws the days as bars, with the limit as a line when it fits.
function chart(days) {
  const W = 600, H = 200, pad = 24, bw = (W - pad) / days.length;
  const top = Math.max(1, ...days.map((d) => d.used));
  const bars = days.map((d, i) => {
    const bh = Math.round((d.used / top) * (H - 2 * pad));
    return svg('rect', { x: pad + i * bw + 1, y: H - pad - bh, width: Math.max(1, bw - 2), height: bh },
      svg('title', {}, `${d.day}: ${d.used}`));
  });
  const labels = [days[0], days[days.length - 1]].map((d, i) =>
    svg('text', { x: i ? W - 70 : pad, y: H - 6 }, d.day));
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'portal-chart w-100', role: 'img', 'aria-labelledby': 'chart-title' },
    svg('title', { id: 'chart-title' }, t('chartTitle')), svg('text', { x: pad, y: 14 }, `max ${top}`), bars, labels);
}

async function usage() {
  const box = h('div', {});
  mount(h('h1', { class: 'h3' }, t('usageTitle')), box);
  const r = await ownService();
  if (r.status !== 200) {
    box.append(problem(r));
    return;
  }
  const u = r.body.usage;
  const pct = Math.min(100, Math.round((u.today.used * 100) / u.daily_message_limit));
  box.append(
    h('p', { class: 'lead', id: 'today' }, `${t('todayUsed')} (${u.today.day}): ${u.today.used} ${t('of')} ${u.daily_message_limit}, `,
      `${u.today.remaining} ${t('remaining')}; ${t('resets')} ${new Date(u.today.reset).toLocaleString(lang)}`),
    h('progress', { max: 100, value: pct, class: 'w-100 mb-4', 'aria-label': `${t('todayUsed')}: ${pct}%` }, `${pct}%`),
    h('h2', { class: 'h5' }, t('chartTitle')), chart(u.days),
    h('details', { class: 'mt-3' }, h('summary', {}, t('chartData')),
      h('table', { class: 'table table-sm', id: 'usage-days' }, h('caption', {}, t('chartTitle')),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('day')), h('th', { scope: 'col' }, t('messages')))),
        h('tbody', {}, u.days.map((d) => h('tr', {}, h('td', {}, d.day), h('td', {}, d.used)))))));
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
    for (const [id, name] of [['f-status', 'status'], ['f-reference', 'reference'], ['f-email', 'email'], ['f-push', 'push'], ['f-webhook', 'webhook']]) {
      if (val(id)) q.set(name, val(id));
    }
    for (const [id, name] of [['f-since', 'since'], ['f-until', 'until']]) {
      if (val(id)) q.set(name, new Date(val(id)).toISOString());
    }
    page(`/api/v1/messages?${q}`, results, true);
  } },
  h('div', { class: 'col-md-4' }, select('f-status', t('status'), ['ACCEPTED', 'SCHEDULED', 'PROCESSED', 'REJECTED', 'FAILED', 'CANCELLED'])),
  ...[['f-email', 'emailOutcome'], ['f-push', 'pushOutcome'], ['f-webhook', 'webhookOutcome']].map(([id, label]) =>
    h('div', { class: 'col-md-4' }, select(id, t(label), ['SENT', 'FAILED', 'EXPIRED', 'THROTTLED', 'SKIPPED']))),
  h('div', { class: 'col-md-4' }, field('f-reference', t('reference'), { autocomplete: 'off' })),
  h('div', { class: 'col-md-4' }, field('f-since', t('since'), { type: 'datetime-local' })),
  h('div', { class: 'col-md-4' }, field('f-until', t('until'), { type: 'datetime-local' })),
  h('div', { class: 'col-md-4' }, h('button', { type: 'submit', class: 'btn btn-primary mt-4', id: 'search' }, t('search'))));
  mount(h('h1', { class: 'h3' }, t('sentTitle')), h('h2', { class: 'h5 mb-4' }, t('filters')), form, results);
  page('/api/v1/messages?page_size=20', results, true);
}

// listing numbers the searches: the answer of one that a newer search
// replaced is dropped. The results are aria-busy while the newest loads.
let listing = 0;

async function page(path, results, fresh) {
  const n = fresh ? ++listing : listing;
  results.setAttribute('aria-busy', 'true');
  const r = await api('GET', path);
  if (n !== listing) return;
  results.setAttribute('aria-busy', 'false');
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
    h('td', {}, h('code', {}, m.id), ' ', h('button', { type: 'button', class: 'btn btn-link btn-sm p-0', 'aria-expanded': 'false',
      'aria-label': `${t('timeline')} ${m.id}`, 'data-timeline': m.id, onclick: (e) => toggleTimeline(e.currentTarget, m) }, t('timeline'))),
    h('td', {}, m.fiscal_code), h('td', {}, m.created_at),
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

// toggleTimeline opens, under a message's row, its timeline as getMessage
// shows it now (read again each time it opens), or closes it.
async function toggleTimeline(button, m) {
  const row = button.closest('tr');
  const open = row.nextElementSibling?.classList.contains('portal-timeline-row') ? row.nextElementSibling : null;
  if (open) {
    open.remove();
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  button.disabled = true;
  const r = await getMessage(m.fiscal_code, m.id);
  button.disabled = false;
  const cell = h('td', { colspan: 6 }, r.status === 200 ? timeline(r.body, `timeline-${m.id}`) : problem(r));
  row.after(h('tr', { class: 'portal-timeline-row' }, cell));
  button.setAttribute('aria-expanded', 'true');
  if (r.status === 200 && r.body.status === 'PROCESSED') cell.append(await receiptOf(m.fiscal_code, m.id));
}

// --- Receipts -------------------------------------------------------------

const b64url = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4)), (c) => c.charCodeAt(0));

// verify checks a receipt (a JWS, ES256) in the browser against the keys
// the platform publishes (GET /api/v1/receipts/keys, anonymous), as anyone
// can offline; it returns the payload and the key's id, or null.
async function verify(jws) {
  const [head, body, sig] = jws.split('.');
  const header = JSON.parse(new TextDecoder().decode(b64url(head)));
  const res = await fetch('/api/v1/receipts/keys');
  if (!res.ok) return null;
  const jwk = ((await res.json()).keys || []).find((k) => k.kid === header.kid);
  if (!jwk || header.alg !== 'ES256') return null;
  const k = await crypto.subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, k, b64url(sig), new TextEncoder().encode(`${head}.${body}`));
  return ok ? { payload: JSON.parse(new TextDecoder().decode(b64url(body))), kid: header.kid } : null;
}

// receiptOf shows a message's receipts of legal events, each checked
// against the published keys.
async function receiptOf(fc, id) {
  const box = h('div', { class: 'portal-receipt', id: `receipt-${id}`, 'aria-live': 'polite' });
  const r = await api('GET', `/api/v1/messages/${encodeURIComponent(fc)}/${encodeURIComponent(id)}/receipt`);
  if (r.status === 404) {
    box.append(h('p', {}, t('receiptNone')));
    return box;
  }
  if (r.status !== 200) {
    box.append(problem(r));
    return box;
  }
  for (const rc of r.body.chain || []) {
    const item = h('div', { class: 'mb-2' }, h('strong', {}, `${t('receipt')}: ${rc.event} (${rc.at})`), ' ', h('span', {}, t('verifying')));
    box.append(item);
    const v = await verify(rc.receipt).catch(() => null);
    const p = v ? v.payload : {};
    item.lastChild.replaceWith(v
      ? h('span', { class: 'final-good receipt-valid' }, `${t('receiptValid')} ${v.kid}`)
      : h('span', { class: 'final-bad receipt-invalid' }, t('receiptInvalid')));
    if (v) {
      item.append(h('dl', {}, h('dt', {}, t('contentDigest')), h('dd', {}, h('code', {}, (p.content || {}).digest || '')),
        p.deadline_at ? [h('dt', {}, t('deadlineAt')), h('dd', {}, p.deadline_at)] : [],
        p.prev ? [h('dt', {}, t('previous')), h('dd', {}, h('code', {}, p.prev))] : []));
    }
  }
  return box;
}

// --- Remote content --------------------------------------------------------

async function remote() {
  const out = h('div', { 'aria-live': 'polite', id: 'rc-out' });
  const current = h('div', { id: 'rc-current' });
  const show = async () => {
    const r = await api('GET', '/api/v1/remote-contents/configurations');
    if (r.status !== 200) {
      current.replaceChildren(problem(r));
      return;
    }
    const items = r.body.items || [];
    current.replaceChildren(items.length === 0 ? h('p', {}, t('rcNone')) : h('table', { class: 'table table-sm', id: 'rc-list' },
      h('caption', {}, t('rcCaption')),
      h('thead', {}, h('tr', {}, ['Id', t('rcName'), t('rcPrecondition'), t('rcBaseUrl'), t('rcHeader'), t('rcTestUsers')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, items.map((c) => h('tr', {}, h('td', {}, h('code', {}, c.configuration_id)), h('td', {}, c.name, h('br', {}), h('small', {}, c.description)),
        h('td', {}, c.has_precondition), h('td', {}, c.prod_environment.base_url), h('td', {}, c.prod_environment.details_authentication.header_key_name),
        h('td', {}, ((c.test_environment || {}).test_users || []).join(', ') || '–'))))));
  };
  const form = h('form', { novalidate: true, class: 'row mt-4', onsubmit: async (e) => {
    e.preventDefault();
    const r = await api('POST', '/api/v1/remote-contents/configurations', { name: val('rc-name'), description: val('rc-description'),
      has_precondition: val('rc-precondition') || 'NONE', prod_environment: { base_url: val('rc-url'),
        details_authentication: { header_key_name: val('rc-header'), key: val('rc-key'), type: val('rc-type') || 'API_KEY' } } });
    document.getElementById('rc-key').value = '';
    out.replaceChildren(r.status === 201
      ? h('div', { class: 'alert alert-success', role: 'status', id: 'rc-created' }, t('rcCreated'), ' ', h('code', {}, r.body.configuration_id))
      : problem(r));
    show();
  } },
  ...[['rc-name', t('rcName')], ['rc-description', t('rcDescription')], ['rc-url', t('rcBaseUrl'), { type: 'url' }],
    ['rc-header', t('rcHeader'), { value: 'X-Api-Key' }], ['rc-key', t('rcKey'), { type: 'password' }], ['rc-type', t('rcType'), { value: 'API_KEY' }]]
    .map(([id, label, attrs]) => h('div', { class: 'col-md-4' }, field(id, label, Object.assign({ autocomplete: 'off' }, attrs)))),
  h('div', { class: 'col-md-4' }, h('div', { class: 'select-wrapper mb-4' }, h('label', { for: 'rc-precondition' }, t('rcPrecondition')),
    h('select', { id: 'rc-precondition' }, ['NONE', 'ONCE', 'ALWAYS'].map((o) => h('option', { value: o }, o))))),
  h('div', { class: 'col-md-4' }, h('button', { type: 'submit', class: 'btn btn-primary mt-4', id: 'rc-create' }, t('rcCreate'))));
  mount(h('h1', { class: 'h3' }, t('rcTitle')), h('p', {}, t('rcIntro')), current, form, out);
  show();
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
  h('button', { type: 'button', class: 'btn btn-outline-primary', id: 'cb-test', onclick: async () => {
    const r = await api('POST', '/api/v1/callback/test');
    out.replaceChildren(r.status === 202
      ? h('div', { class: 'alert alert-success', role: 'status', id: 'cb-test-sent' }, t('cbTestSent'), ' ', h('code', {}, r.body.id))
      : problem(r));
  } }, t('cbTest')), ' ',
  h('button', { type: 'button', class: 'btn btn-outline-danger', onclick: async () => {
    const r = await api('DELETE', '/api/v1/callback');
    out.replaceChildren(r.status === 204 ? h('div', { class: 'alert alert-success', role: 'status' }, t('deleted')) : problem(r));
    show();
  } }, t('cbDelete')));
  mount(h('h1', { class: 'h3' }, t('cbTitle')), current, form, out);
  show();
}

// --- Administration (a key with the administrator's groups) ------------------

const ADMIN_GROUPS = ['ApiServiceWrite', 'ApiUserAdmin'];
let me = null; // the key's groups, read once after signing in

const list = (v) => v.split(',').map((x) => x.trim()).filter(Boolean);

function done(out, r, ...extra) {
  out.replaceChildren(r.status >= 200 && r.status < 300
    ? h('div', { class: 'alert alert-success', role: 'status' }, t('done'), ...extra) : problem(r));
}

function admin() {
  const svcOut = h('div', { 'aria-live': 'polite', id: 'adm-service-out' });
  const serviceBody = () => ({ service_id: val('adm-id'), service_name: val('adm-name'), organization_name: val('adm-org'),
    department_name: val('adm-dept'), organization_fiscal_code: val('adm-orgfc'), authorized_recipients: list(val('adm-recipients')),
    authorized_cidrs: list(val('adm-cidrs')), max_allowed_payment_amount: Number(val('adm-payment') || 0),
    daily_message_limit: Number(val('adm-daily') || 250000), require_secure_channels: document.getElementById('adm-secure').checked,
    opening_deadline_days: Number(val('adm-deadline') || 10) });
  const svcForm = h('form', { novalidate: true, onsubmit: (e) => e.preventDefault() },
    h('div', { class: 'row' },
      [['adm-id', t('serviceId')], ['adm-name', t('serviceName')], ['adm-org', t('organization')], ['adm-dept', t('department')],
        ['adm-orgfc', t('orgFiscalCode')], ['adm-payment', t('paymentLimit')], ['adm-daily', t('dailyLimit')],
        ['adm-recipients', t('recipientsList')], ['adm-cidrs', t('cidrsList')], ['adm-deadline', t('deadline')]].map(([id, label]) =>
        h('div', { class: 'col-md-4' }, field(id, label, { autocomplete: 'off' }))),
      h('div', { class: 'col-md-4' }, h('div', { class: 'form-check mb-3' }, h('input', { type: 'checkbox', id: 'adm-secure', class: 'form-check-input' }),
        h('label', { for: 'adm-secure', class: 'form-check-label' }, t('secure'))))),
    h('button', { type: 'button', class: 'btn btn-outline-primary', id: 'adm-load', onclick: async () => {
      const r = await api('GET', `/adm/services/${encodeURIComponent(val('adm-id'))}`);
      if (r.status !== 200) return done(svcOut, r);
      const s = r.body;
      for (const [id, v] of [['adm-name', s.service_name], ['adm-org', s.organization_name], ['adm-dept', s.department_name],
        ['adm-orgfc', s.organization_fiscal_code], ['adm-payment', s.max_allowed_payment_amount], ['adm-daily', s.daily_message_limit],
        ['adm-recipients', (s.authorized_recipients || []).join(', ')], ['adm-cidrs', (s.authorized_cidrs || []).join(', ')],
        ['adm-deadline', s.opening_deadline_days]]) {
        document.getElementById(id).value = v ?? '';
      }
      document.getElementById('adm-secure').checked = !!s.require_secure_channels;
      done(svcOut, r);
    } }, t('load')), ' ',
    h('button', { type: 'button', class: 'btn btn-primary', id: 'adm-create', onclick: async () =>
      done(svcOut, await api('POST', '/adm/services', serviceBody())) }, t('create')), ' ',
    h('button', { type: 'button', class: 'btn btn-primary', id: 'adm-update', onclick: async () =>
      done(svcOut, await api('PUT', `/adm/services/${encodeURIComponent(val('adm-id'))}`, serviceBody())) }, t('update')));

  const groupsOut = h('div', { 'aria-live': 'polite', id: 'adm-groups-out' });
  const all = Object.keys(T.en.groups);
  const groupsForm = h('form', { novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const chosen = all.filter((g) => document.getElementById(`adm-g-${g}`).checked);
    done(groupsOut, await api('PUT', `/adm/users/${encodeURIComponent(val('adm-user'))}/groups`, { groups: chosen }));
  } },
  field('adm-user', t('userEmail'), { type: 'email', autocomplete: 'off' }),
  h('fieldset', { class: 'mb-3' }, h('legend', { class: 'h6' }, t('groupsTitle')),
    all.map((g) => h('div', { class: 'form-check' }, h('input', { type: 'checkbox', id: `adm-g-${g}`, class: 'form-check-input' }),
      h('label', { for: `adm-g-${g}`, class: 'form-check-label' }, `${g}: ${T[lang].groups[g]}`)))),
  h('button', { type: 'submit', class: 'btn btn-primary', id: 'adm-set-groups' }, t('setGroups')));

  const subOut = h('div', { 'aria-live': 'polite', id: 'adm-sub-out' });
  const subForm = h('form', { novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const r = await api('PUT', `/adm/users/${encodeURIComponent(val('adm-sub-user'))}/subscriptions/${encodeURIComponent(val('adm-sub-service'))}`,
      { product_name: 'IO', key_type: val('adm-sub-kind') });
    done(subOut, r, ...(r.status === 200 ? [' ', h('span', { class: 'badge bg-secondary', id: 'adm-sub-kind-out' }, r.body.key_type), ' ',
      h('code', { id: 'adm-primary' }, r.body.primary_key), ' ', h('code', {}, r.body.secondary_key)] : []));
  } },
  field('adm-sub-user', t('userEmail'), { type: 'email', autocomplete: 'off' }),
  field('adm-sub-service', t('serviceId'), { autocomplete: 'off' }),
  h('div', { class: 'select-wrapper mb-4' }, h('label', { for: 'adm-sub-kind' }, t('subKind')),
    h('select', { id: 'adm-sub-kind' }, h('option', { value: 'LIVE' }, t('keyLive')), h('option', { value: 'TEST' }, t('keyTest')))),
  h('button', { type: 'submit', class: 'btn btn-primary', id: 'adm-create-sub' }, t('createSubscription')));

  const keyOut = h('div', { 'aria-live': 'polite', id: 'adm-key-out' });
  const keyForm = h('form', { novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const r = await api('PUT', `/adm/services/${encodeURIComponent(val('adm-key-service'))}/keys`, { key_type: val('adm-key-type') });
    done(keyOut, r, ...(r.status === 200 ? [' ', h('code', { id: 'adm-new-key' }, r.body.primary_key || r.body.secondary_key)] : []));
  } },
  field('adm-key-service', t('serviceId'), { autocomplete: 'off' }),
  h('div', { class: 'select-wrapper mb-4' }, h('label', { for: 'adm-key-type' }, t('keyType')),
    h('select', { id: 'adm-key-type' }, h('option', { value: 'PRIMARY_KEY' }, 'PRIMARY_KEY'), h('option', { value: 'SECONDARY_KEY' }, 'SECONDARY_KEY'))),
  h('button', { type: 'submit', class: 'btn btn-primary', id: 'adm-regenerate' }, t('regenerate')));

  mount(h('h1', { class: 'h3' }, t('adminTitle')),
    h('h2', { class: 'h5 mt-4 mb-4' }, t('adminService')), svcForm, svcOut,
    h('h2', { class: 'h5 mt-5 mb-4' }, t('adminGroups')), groupsForm, groupsOut,
    h('h2', { class: 'h5 mt-5 mb-4' }, t('adminSubscription')), subForm, subOut,
    h('h2', { class: 'h5 mt-5 mb-4' }, t('adminKeys')), keyForm, keyOut);
}

// --- Quick start ----------------------------------------------------------

function quickstart() {
  const base = location.origin;
  const k = key();
  const body = '{"content":{"subject":"Avviso TARI 2026","markdown":"Gentile cittadino, è disponibile il nuovo avviso di pagamento della TARI per il 2026: paga entro la scadenza."}}';
  const curl = `curl -s -X POST ${base}/api/v1/messages/SIMDLV00A00Y001X \\\n  -H "Ocp-Apim-Subscription-Key: ${k}" \\\n  -H "Idempotency-Key: tari-2026-0001" \\\n  -d '${body}'`;
  const goSnippet = `// go get github.com/digital-citizenship/functions/pkg/apiclient (generated from this API's description)\n` +
    `c, _ := apiclient.New("${base}", apiclient.Options{Key: "${k}", Attempts: 5})\nidem := "tari-2026-0001"\n` +
    `r, err := c.SubmitMessageforUserWithBodyWithResponse(ctx, "SIMDLV00A00Y001X",\n` +
    `\t&apiclient.SubmitMessageforUserParams{IdempotencyKey: &idem}, "application/json",\n\tstrings.NewReader(\`${body}\`))\n` +
    `if err == nil {\n\terr = r.Err() // an *apiclient.Problem unless 2xx\n}\n// *r.JSON201.Id names the message`;
  const ts = `const res = await fetch("${base}/api/v1/messages/SIMDLV00A00Y001X", {\n  method: "POST",\n  headers: { "Ocp-Apim-Subscription-Key": "${k}", "Idempotency-Key": "tari-2026-0001" },\n  body: JSON.stringify(${body}),\n});\nconsole.log(res.status, await res.json()); // 201 {id}`;
  const sims = h('ul', { id: 'quick-simulated' });
  mount(h('h1', { class: 'h3' }, t('quickTitle')), h('p', {}, t('quickIntro')),
    ...[['curl', curl], ['Go', goSnippet], ['TypeScript', ts]].flatMap(([name, code]) =>
      [h('h2', { class: 'h5' }, name), h('pre', { class: 'portal-snippet' }, h('code', {}, code))]),
    h('p', {}, t('quickSim')), sims);
  fetch('simulated-citizens.json').then((r) => (r.ok ? r.json() : [])).then((cs) => sims.replaceChildren(
    ...cs.map((c) => h('li', {}, h('code', {}, c.fiscal_code), ` ${c.outcome}: ${c.description}`))));
}

// --- Shell ----------------------------------------------------------------

const ROUTES = { '#/service': ['tabService', service], '#/sandbox': ['tabSandbox', sandbox], '#/sent': ['tabSent', sent],
  '#/usage': ['tabUsage', usage], '#/callbacks': ['tabCallbacks', callbacks], '#/remote': ['tabRemote', remote], '#/quickstart': ['tabQuick', quickstart],
  '#/admin': ['tabAdmin', admin] };
const isAdmin = () => (me || []).some((g) => ADMIN_GROUPS.includes(g));
const routes = () => Object.entries(ROUTES).filter(([hash]) => hash !== '#/admin' || isAdmin());

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
  document.getElementById('tabs').replaceChildren(...routes().map(([hash, [label]]) =>
    h('li', { class: 'nav-item' }, h('a', { class: `nav-link${location.hash === hash ? ' active' : ''}`, href: hash,
      'aria-current': location.hash === hash ? 'page' : false }, t(label)))));
}

async function render() {
  if (!key()) {
    me = null;
    chrome();
    signin();
    return;
  }
  if (me === null) {
    const r = await readService();
    me = r.status === 200 ? r.body.groups : [];
    fresh = r.status === 200 ? r : null;
  }
  if (!ROUTES[location.hash] || (location.hash === '#/admin' && !isAdmin())) {
    location.hash = '#/service';
    return; // hashchange renders
  }
  chrome();
  ROUTES[location.hash][1](); // a page that reads the service takes fresh before its first await
  fresh = null;
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
