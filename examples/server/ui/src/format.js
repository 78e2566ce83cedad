// How the dashboard writes numbers and times. Money is exact: the API sends integer
// micro-dollars beside every amount, and they are written digit by digit, never
// through floating point. Times are UTC, as everywhere in spotopt.

const MICROS_PER_DOLLAR = 1_000_000;

function groupThousands(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

// micros (an integer) -> "$1,234.567891": every micro-dollar, as the ledger has it.
// null (unknown) -> "unknown".
export function usdExact(micros) {
  if (micros === null || micros === undefined) return 'unknown';
  const sign = micros < 0 ? '−' : '';
  const abs = Math.abs(micros);
  const dollars = Math.floor(abs / MICROS_PER_DOLLAR);
  const fraction = String(abs % MICROS_PER_DOLLAR).padStart(6, '0');
  return `${sign}$${groupThousands(String(dollars))}.${fraction}`;
}

// micros -> "$1,234.57", rounded half up to the cent, for headlines.
export function usdCents(micros) {
  if (micros === null || micros === undefined) return 'unknown';
  const sign = micros < 0 ? '−' : '';
  const cents = Math.floor((Math.abs(micros) + 5_000) / 10_000);
  const fraction = String(cents % 100).padStart(2, '0');
  return `${sign}$${groupThousands(String(Math.floor(cents / 100)))}.${fraction}`;
}

// A price per hour: "$0.0389/h" (as many decimals as the price has, at least 2).
export function pricePerHour(micros) {
  if (micros === null || micros === undefined) return 'unknown';
  const exact = usdExact(micros).replace(/0{1,4}$/, '');
  return `${exact}/h`;
}

export function percent(part, whole) {
  if (part === null || whole === null || !whole) return '—';
  return `${((100 * part) / whole).toFixed(1)}%`;
}

// "2025-11-23T10:15:02.481930Z" -> milliseconds since the epoch. Date.parse takes
// at most milliseconds, so the microseconds are cut first.
export function parseTime(text) {
  if (!text) return null;
  return Date.parse(text.replace(/(\.\d{3})\d+/, '$1'));
}

// -> "2025-11-23 10:15 UTC"
export function utc(text, { seconds = false } = {}) {
  const ms = parseTime(text);
  if (ms === null || Number.isNaN(ms)) return '—';
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, seconds ? 19 : 16)} UTC`;
}

// -> "2025-11-23"
export function utcDay(text) {
  return new Date(parseTime(text)).toISOString().slice(0, 10);
}

// -> "2025-11"
export function utcMonth(text) {
  return new Date(parseTime(text)).toISOString().slice(0, 7);
}

// Milliseconds -> "3d 4h", "2h 5m", "42s": the two largest units.
export function duration(ms) {
  if (ms === null || Number.isNaN(ms)) return '—';
  const s = Math.max(0, Math.floor(ms / 1000));
  const units = [
    ['d', Math.floor(s / 86400)],
    ['h', Math.floor(s / 3600) % 24],
    ['m', Math.floor(s / 60) % 60],
    ['s', s % 60],
  ];
  const first = units.findIndex(([, n]) => n > 0);
  if (first < 0) return '0s';
  return units
    .slice(first, first + 2)
    .filter(([, n]) => n > 0)
    .map(([u, n]) => `${n}${u}`)
    .join(' ');
}

export function count(n) {
  return groupThousands(String(n));
}
