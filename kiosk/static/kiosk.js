/* ORS Gateway check-in kiosk.
 *
 * Plain JavaScript, no build step and nothing loaded from elsewhere: kiosks run on closed
 * hospital networks. The page keeps the keyboard focus on a hidden input so a USB
 * keyboard-wedge scanner (which types the QR text and then Enter) works without anyone
 * touching the screen; the on-screen keypad types into the same input.
 */
"use strict";

const TEXTS = {
  en: {
    title: "Hospital check-in",
    brand: "Hospital check-in",
    language: "Language",
    welcome: "Welcome",
    instruction: "Scan your QR code or type your T-code",
    scanHint: "Hold the QR code from your SMS under the scanner, or type the 10 digits on the keypad.",
    typed: "T-code",
    scanLabel: "Scanner input",
    keypad: "Keypad",
    reading: "Reading the code…",
    needTen: "Please type all 10 digits of your T-code.",
    clear: "Clear",
    delete: "Delete",
    ok: "OK",
    checking: "Checking…",
    done: "Done",
    toneOk: "Checked in",
    toneWarn: "Please read",
    toneStop: "Sorry",
    queueNumber: "Your number",
    person: "Name",
    department: "Department",
    yourClinic: "Your clinic",
    time: "Appointment",
    doctor: "Doctor",
    room: "Room",
    checkedInAt: "Checked in",
    ticketFoot: "Please wait until your number is called.",
    offline: "This kiosk cannot reach the hospital system. Please go to reception.",
    failed: "Something went wrong. Please go to reception.",
    setupTitle: "Kiosk setup",
    setupHelp: "Enter this kiosk's key, as printed by “ors kiosk add”. It is kept on this kiosk only.",
    setupKey: "Kiosk key",
    save: "Save key",
    cancel: "Cancel",
    forget: "Forget key",
    checkingKey: "Checking the key…",
    keyRejected: "This key was not accepted. Check it, or ask for a new one.",
    keyForgotten: "The key was removed from this kiosk.",
    forgetNeedsKey: "To forget the key, first type this kiosk's key or the staff PIN above.",
    forgetRefused: "That is neither this kiosk's key nor the staff PIN.",
    days: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
    months: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
  },
  sw: {
    title: "Kujisajili hospitalini",
    brand: "Kujisajili hospitalini",
    language: "Lugha",
    welcome: "Karibu",
    instruction: "Changanua msimbo wako wa QR au andika nambari yako ya T",
    scanHint: "Weka msimbo wa QR wa SMS yako chini ya skana, au andika tarakimu 10 kwenye vitufe.",
    typed: "Nambari T",
    scanLabel: "Sehemu ya skana",
    keypad: "Vitufe",
    reading: "Inasoma msimbo…",
    needTen: "Tafadhali andika tarakimu zote 10 za nambari yako ya T.",
    clear: "Futa zote",
    delete: "Futa",
    ok: "Sawa",
    checking: "Inakagua…",
    done: "Maliza",
    toneOk: "Umesajiliwa",
    toneWarn: "Tafadhali soma",
    toneStop: "Samahani",
    queueNumber: "Nambari yako",
    person: "Jina",
    department: "Idara",
    yourClinic: "Kliniki yako",
    time: "Miadi",
    doctor: "Daktari",
    room: "Chumba",
    checkedInAt: "Umesajiliwa",
    ticketFoot: "Tafadhali subiri hadi nambari yako iitwe.",
    offline: "Kioski hiki hakiwezi kufikia mfumo wa hospitali. Tafadhali nenda mapokezi.",
    failed: "Hitilafu imetokea. Tafadhali nenda mapokezi.",
    setupTitle: "Kuweka kioski",
    setupHelp: "Andika ufunguo wa kioski hiki, kama ulivyochapishwa na “ors kiosk add”. Unahifadhiwa kwenye kioski hiki pekee.",
    setupKey: "Ufunguo wa kioski",
    save: "Hifadhi ufunguo",
    cancel: "Ghairi",
    forget: "Sahau ufunguo",
    checkingKey: "Inakagua ufunguo…",
    keyRejected: "Ufunguo huu haukukubaliwa. Uangalie, au omba mpya.",
    keyForgotten: "Ufunguo umeondolewa kwenye kioski hiki.",
    forgetNeedsKey: "Ili kusahau ufunguo, andika kwanza ufunguo wa kioski hiki au PIN ya wafanyakazi hapo juu.",
    forgetRefused: "Huo si ufunguo wa kioski hiki wala PIN ya wafanyakazi.",
    days: ["Jumapili", "Jumatatu", "Jumanne", "Jumatano", "Alhamisi", "Ijumaa", "Jumamosi"],
    months: ["Jan", "Feb", "Mac", "Apr", "Mei", "Jun", "Jul", "Ago", "Sep", "Okt", "Nov", "Des"],
  },
};

const KEY_STORE = "ors.kiosk.key";
const LONG_PRESS_MS = 3000;
const REQUEST_TIMEOUT_MS = 15000;
const SETUP_IDLE_MS = 60000;
const TCODE_DIGITS = 10;
const TONES = {
  checked_in: "ok",
  already_checked_in: "ok",
  valid: "ok",
  too_early: "warn",
  wrong_day: "warn",
  wrong_hospital: "warn",
  too_late: "warn",
};
const TICKET_STATUSES = new Set(["checked_in", "already_checked_in"]);

const $ = (id) => document.getElementById(id);
const body = document.body;
const scan = $("scan");
const config = {
  lang: body.dataset.lang in TEXTS ? body.dataset.lang : "en",
  resetMs: Number(body.dataset.resetMs) || 8000,
  print: body.dataset.print === "1",
  checkinUrl: body.dataset.checkinUrl,
  lookupUrl: body.dataset.lookupUrl,
  setupPinUrl: body.dataset.setupPinUrl,
};
const state = { lang: config.lang, screen: "loading", busy: false, result: null };
const timers = { reset: 0, idle: 0, setup: 0, press: 0 };

function t(name) {
  return TEXTS[state.lang][name];
}

function storedKey() {
  return localStorage.getItem(KEY_STORE) || "";
}

/* ---- screens and texts ------------------------------------------------------------------ */

function applyTexts() {
  document.documentElement.lang = state.lang;
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-t-label]")) {
    el.setAttribute("aria-label", t(el.dataset.tLabel));
  }
  for (const button of document.querySelectorAll("[data-lang-choice]")) {
    button.setAttribute("aria-pressed", String(button.dataset.langChoice === state.lang));
  }
  renderDigits();
  if (state.result) renderResult();
}

function show(name) {
  state.screen = name;
  body.dataset.screen = name;
  for (const section of document.querySelectorAll(".screen")) section.hidden = section.id !== name;
  focusScan();
}

// Any screen but setup gives the keyboard to the scanner input, whatever was touched last.
function focusScan() {
  if (state.screen !== "setup" && document.activeElement !== scan) {
    scan.focus({ preventScroll: true });
  }
}

function setLanguage(lang) {
  state.lang = lang;
  applyTexts();
  armIdle();
}

/* ---- typing: scanner and keypad --------------------------------------------------------- */

function isDigits(text) {
  return /^[\d\s-]*$/.test(text);
}

function grouped(digits) {
  return [digits.slice(0, 3), digits.slice(3, 6), digits.slice(6)].filter(Boolean).join(" ");
}

// Typed digits show in 3-3-4 groups like the SMS; a QR payload in progress shows no gibberish.
function renderDigits() {
  const box = $("digits");
  const raw = scan.value;
  box.replaceChildren();
  if (!isDigits(raw)) {
    box.dataset.value = "";
    box.textContent = t("reading");
    return;
  }
  const digits = raw.replace(/\D/g, "");
  box.dataset.value = grouped(digits);
  box.setAttribute("aria-label", `${t("typed")}: ${grouped(digits)}`);
  const groups = [3, 3, 4];
  let i = 0;
  for (const size of groups) {
    const group = document.createElement("span");
    group.className = "group";
    for (let k = 0; k < size; k += 1, i += 1) {
      const slot = document.createElement("span");
      slot.className = i < digits.length ? "slot filled" : "slot";
      slot.textContent = digits[i] || "";
      group.append(slot);
    }
    box.append(group);
  }
}

function hint(text) {
  $("hint").textContent = text;
}

function press(key) {
  if (state.busy) return;
  const digits = isDigits(scan.value) ? scan.value.replace(/\D/g, "") : "";
  if (key === "ok") {
    submit(digits);
    return;
  }
  if (key === "del") scan.value = digits.slice(0, -1);
  else if (key === "clear") scan.value = "";
  else if (digits.length < TCODE_DIGITS) scan.value = digits + key;
  hint("");
  renderDigits();
  armIdle();
}

// A citizen who walks away mid-typing leaves nothing behind for the next one.
function armIdle() {
  clearTimeout(timers.idle);
  timers.idle = setTimeout(() => {
    if (state.screen === "welcome" && !state.busy) reset();
  }, config.resetMs * 4);
}

/* ---- check-in --------------------------------------------------------------------------- */

async function post(url, key, code) {
  return postJson(url, key, { code });
}

async function postJson(url, key, payload) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  try {
    return await fetch(`${url}?lang=${state.lang}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` },
      body: JSON.stringify(payload),
      cache: "no-store",
      signal: abort.signal,
    });
  } finally {
    clearTimeout(timer);
  }
}

async function submit(raw) {
  const code = raw.trim();
  scan.value = "";
  renderDigits();
  if (!code || state.busy || state.screen === "setup") return;
  if (isDigits(code) && code.replace(/\D/g, "").length !== TCODE_DIGITS) {
    show("welcome");
    hint(t("needTen"));
    return;
  }
  hint("");
  setBusy(true);
  try {
    const response = await post(config.checkinUrl, storedKey(), code);
    if (response.status === 401) {
      localStorage.removeItem(KEY_STORE);
      openSetup(t("keyRejected"));
      return;
    }
    const answer = await response.json();
    showResult(answer.status, answer.message, answer.ticket);
  } catch (error) {
    const offline = error instanceof TypeError || error.name === "AbortError";
    showResult("offline", t(offline ? "offline" : "failed"), null);
  } finally {
    setBusy(false);
  }
}

function setBusy(busy) {
  state.busy = busy;
  $("busy").hidden = !busy;
}

/* ---- result and ticket ------------------------------------------------------------------ */

function showResult(status, message, ticket) {
  state.result = { status, message, ticket: TICKET_STATUSES.has(status) ? ticket : null };
  renderResult();
  show("result");
  announce(`${$("result-title").textContent}. ${message}`);
  scheduleReset();
  if (state.result.ticket && config.print) {
    // Print after the ticket is laid out; with --kiosk-printing Chromium prints silently.
    requestAnimationFrame(() => setTimeout(() => window.print(), 0));
  }
}

function renderResult() {
  const { status, message, ticket } = state.result;
  const tone = TONES[status] || "stop";
  const panel = $("result");
  panel.dataset.status = status;
  panel.dataset.tone = tone;
  $("result-title").textContent = t(`tone${tone[0].toUpperCase()}${tone.slice(1)}`);
  $("result-message").textContent = message;
  renderTicket(ticket);
}

function renderTicket(ticket) {
  $("ticket").hidden = !ticket;
  if (!ticket) return;
  $("t-hospital").textContent = ticket.hospital;
  $("t-number").textContent = ticket.queue_number ?? "";
  // Whose booking it is (a first name only), so each of a family's tickets says whose it is.
  fact("person", ticket.person);
  // A sensitive department's name never reaches a public screen or a paper ticket.
  fact("department", ticket.sensitive || !ticket.department ? t("yourClinic") : ticket.department);
  fact("time", formatWhen(ticket.starts_at, true));
  fact("doctor", ticket.doctor);
  fact("room", ticket.room);
  fact("checked", formatWhen(ticket.checked_in_at, false));
}

function fact(name, value) {
  $(`row-${name}`).hidden = !value;
  $(`t-${name}`).textContent = value || "";
}

// The API gives hospital-local times with their offset; show that wall time as it is,
// whatever time zone the kiosk itself is set to.
function formatWhen(iso, withDay) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || "");
  if (!m) return "";
  const [, y, mo, d, hh, mm] = m;
  if (!withDay) return `${hh}:${mm}`;
  const weekday = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))).getUTCDay();
  return `${t("days")[weekday]} ${Number(d)} ${t("months")[Number(mo) - 1]} ${y}, ${hh}:${mm}`;
}

function announce(text) {
  const live = $("live");
  live.textContent = "";
  setTimeout(() => {
    live.textContent = text;
  }, 50);
}

function scheduleReset() {
  clearTimeout(timers.reset);
  timers.reset = setTimeout(reset, config.resetMs);
  const bar = $("countdown-bar");
  bar.style.animation = "none";
  void bar.offsetWidth; // restart the CSS animation
  bar.style.animation = `countdown ${config.resetMs}ms linear forwards`;
}

// Back to the welcome screen in the kiosk's own language, ready for the next citizen.
function reset() {
  clearTimeout(timers.reset);
  clearTimeout(timers.idle);
  state.result = null;
  state.lang = config.lang;
  scan.value = "";
  hint("");
  applyTexts();
  show("welcome");
}

/* ---- setup: the kiosk key --------------------------------------------------------------- */

function openSetup(message) {
  clearTimeout(timers.reset);
  clearTimeout(timers.idle);
  state.result = null;
  const known = Boolean(storedKey());
  $("setup-key").value = "";
  $("setup-error").textContent = message || "";
  $("setup-cancel").hidden = !known;
  $("setup-forget").hidden = !known;
  show("setup");
  $("setup-key").focus();
  armSetupIdle();
}

// A citizen who opened setup by a long press must not leave the kiosk stuck there.
function armSetupIdle() {
  clearTimeout(timers.setup);
  timers.setup = setTimeout(() => {
    if (state.screen === "setup" && storedKey()) reset();
  }, SETUP_IDLE_MS);
}

// A lookup of an empty code answers 401 for a wrong key and bad_code for a good one,
// without touching any voucher.
async function verifyKey(key) {
  try {
    const response = await post(config.lookupUrl, key, "");
    return response.status !== 401;
  } catch {
    return null;
  }
}

async function saveKey(event) {
  event.preventDefault();
  const key = $("setup-key").value.trim();
  if (!key) return;
  const error = $("setup-error");
  error.textContent = t("checkingKey");
  const ok = await verifyKey(key);
  if (ok !== true) {
    error.textContent = t(ok === false ? "keyRejected" : "offline");
    return;
  }
  localStorage.setItem(KEY_STORE, key);
  clearTimeout(timers.setup);
  reset();
}

// Forgetting takes the kiosk offline, so it needs this kiosk's key or the staff PIN typed
// into the key field: a passer-by who opens setup by a long press cannot do it.
async function forgetKey() {
  const typed = $("setup-key").value.trim();
  const error = $("setup-error");
  armSetupIdle();
  if (!typed) {
    error.textContent = t("forgetNeedsKey");
    return;
  }
  if (typed !== storedKey() && !(await pinAccepted(typed))) {
    $("setup-key").value = "";
    error.textContent = t("forgetRefused");
    return;
  }
  localStorage.removeItem(KEY_STORE);
  openSetup(t("keyForgotten"));
}

// The server knows the PIN (kiosk.setup_pin); the page never holds it.
async function pinAccepted(pin) {
  if (!/^\d{4,12}$/.test(pin)) return false;
  try {
    const response = await postJson(config.setupPinUrl, storedKey(), { pin });
    return response.status === 200;
  } catch {
    return false;
  }
}

/* ---- wiring ----------------------------------------------------------------------------- */

function wire() {
  scan.addEventListener("keydown", (event) => {
    // Scanners end a code with Enter, some with Tab; both submit what was typed.
    if (event.key === "Enter" || (event.key === "Tab" && scan.value)) {
      event.preventDefault();
      submit(scan.value);
    } else if (event.key === "Tab") {
      event.preventDefault();
    }
  });
  scan.addEventListener("input", () => {
    hint("");
    renderDigits();
    armIdle();
  });
  scan.addEventListener("blur", () => setTimeout(focusScan, 0));
  document.addEventListener("click", focusScan);
  window.addEventListener("focus", focusScan);
  // Pressing a button must not take the focus away from the scanner input.
  document.addEventListener("mousedown", (event) => {
    if (state.screen !== "setup" && event.target.closest("button")) event.preventDefault();
  });
  document.addEventListener("contextmenu", (event) => event.preventDefault());

  $("keypad").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-key]");
    if (button) press(button.dataset.key);
  });
  for (const button of document.querySelectorAll("[data-lang-choice]")) {
    button.addEventListener("click", () => setLanguage(button.dataset.langChoice));
  }
  $("done").addEventListener("click", reset);

  $("setup-form").addEventListener("submit", saveKey);
  $("setup-form").addEventListener("input", armSetupIdle);
  $("setup-cancel").addEventListener("click", reset);
  $("setup-forget").addEventListener("click", forgetKey);

  // IT staff reach the setup screen by holding the title for three seconds.
  const brand = $("brand");
  brand.addEventListener("pointerdown", () => {
    clearTimeout(timers.press);
    timers.press = setTimeout(() => openSetup(""), LONG_PRESS_MS);
  });
  for (const name of ["pointerup", "pointerleave", "pointercancel"]) {
    brand.addEventListener(name, () => clearTimeout(timers.press));
  }
}

function start() {
  wire();
  applyTexts();
  const url = new URL(window.location.href);
  const wantsSetup = url.searchParams.get("setup") === "1";
  if (wantsSetup) {
    // Drop the parameter so that a later reload does not reopen the setup screen.
    url.searchParams.delete("setup");
    history.replaceState(null, "", url);
  }
  if (wantsSetup || !storedKey()) openSetup("");
  else reset();
}

start();
