// Small pieces every page uses: headings at a given level, status badges, loading
// and error notes, exact money figures.
import { usdCents, usdExact } from './format.js';

export function Heading({ level, children, ...props }) {
  const Tag = `h${Math.min(level, 6)}`;
  return <Tag {...props}>{children}</Tag>;
}

// A state word with a colour; the word itself carries the meaning, the colour only
// helps the eye.
export function Badge({ value, kind = value }) {
  return <span class={`badge badge-${String(kind).replace(/[^a-z0-9-]/gi, '')}`}>{value}</span>;
}

export function Loading({ what = 'Loading' }) {
  return (
    <p class="muted" role="status">
      {what}…
    </p>
  );
}

export function ErrorNote({ error }) {
  return (
    <p class="error" role="alert">
      {error.status ? `${error.status} ${error.code}: ` : ''}
      {error.message}
    </p>
  );
}

// A headline amount in cents with the exact ledger figure beneath it.
export function Money({ micros, testid }) {
  return (
    <>
      <span class="figure">{usdCents(micros)}</span>
      <span class="exact" data-testid={testid}>
        {micros === null ? 'price unknown' : `exactly ${usdExact(micros)}`}
      </span>
    </>
  );
}
