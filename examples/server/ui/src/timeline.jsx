// One agent's history on one line of time, newest first: its switches, interruption
// incidents, the decisions logged for it, commands, every state its replicas
// entered, and the server's events about it (placement moves, identity conflicts,
// re-homes). A command, a replica or a decision can be shown by its anchor
// ("command-<id>"): it is scrolled to and focused.
import { useEffect, useState } from 'preact/hooks';
import { Badge } from './components.jsx';
import {
  actionText,
  decisionState,
  engineText,
  heldBackText,
  reasonText,
  riskPercent,
  triggerText,
} from './decision_text.js';
import { pricePerHour, utc } from './format.js';

const KINDS = [
  ['switch', 'Switches'],
  ['incident', 'Incidents'],
  ['decision', 'Decisions'],
  ['command', 'Commands'],
  ['replica', 'Replica states'],
  ['event', 'Events'],
];

export function placeOf(p) {
  if (p.mode === 'ondemand') return `on-demand ${p.instance_type}`;
  return p.pool_id ?? 'an unknown pool';
}

const priceMicros = (usd) => (usd === null || usd === undefined ? null : Math.round(usd * 1e6));

function switchItem(s) {
  const prices = [
    ['on-demand', s.prices.on_demand],
    ['old spot', s.prices.old_spot],
    ['new spot', s.prices.new_spot],
  ]
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${pricePerHour(priceMicros(v))}`);
  return {
    at: s.timing.switch_initiated_at ?? s.created_at,
    kind: 'switch',
    title: `Switched ${placeOf(s.old_instance)} → ${placeOf(s.new_instance)}`,
    lines: [
      `${s.reason || 'no reason given'}; trigger ${s.trigger || 'unknown'}${s.requested_by ? `, by ${s.requested_by}` : ''}`,
      `${s.old_instance.instance_id} → ${s.new_instance.instance_id}`,
      prices.join(', '),
    ],
  };
}

function incidentItem(i) {
  const phases = [
    ['detected', i.detected_at],
    ['decided', i.decided_at],
    ['promoted', i.promoted_at],
    ['healthy', i.healthy_at],
    ['closed', i.closed_at],
  ]
    .filter(([, at]) => at)
    .map(([name, at]) => `${name} ${utc(at, { seconds: true })}`);
  return {
    at: i.notice_time,
    kind: 'incident',
    title: i.signal === 'termination-notice' ? 'Termination notice' : 'Rebalance recommendation',
    state: i.closed_at ? 'closed' : 'open',
    lines: [
      `on ${i.instance_id}${i.deadline ? `, deadline ${utc(i.deadline, { seconds: true })}` : ''}${
        i.repeat_count > 1 ? `, seen ${i.repeat_count} times` : ''
      }`,
      i.decision ? `decision: ${i.decision}` : '',
      phases.join(' · '),
    ],
  };
}

function decisionItem(r) {
  const d = r.decision;
  const engine = r.fallback ? `${engineText(d)} instead of ${r.engine_asked} (${r.fallback})` : engineText(d);
  return {
    at: r.decided_at,
    kind: 'decision',
    anchor: `decision-${r.id}`,
    title: `Decided: ${actionText(d.action, d.target_pool_id)}`,
    state: decisionState(r),
    lines: [
      `${reasonText(d.reason)}${d.message ? `: ${d.message}` : ''}`,
      heldBackText(d),
      `${triggerText(r.trigger)}; ${engine}; risk ${riskPercent(d.risk)}, saves ${pricePerHour(d.expected_savings_micros)}`,
      // A stay's outcome only repeats what held it back, or that nothing was to do.
      d.action === 'stay' ? '' : r.outcome,
    ],
  };
}

function commandItem(c) {
  const target = c.target_mode === 'ondemand' ? 'on-demand' : c.target_pool_id;
  return {
    at: c.created_at,
    kind: 'command',
    anchor: `command-${c.id}`,
    title: `${c.command_type === 'switch' ? 'Switch' : 'Create replica'} to ${target} (priority ${c.priority})`,
    state: c.state,
    lines: [
      `${c.reason || 'no reason given'}${c.requested_by ? `, by ${c.requested_by}` : ''}`,
      [
        c.leased_at ? `delivered ${utc(c.leased_at, { seconds: true })}` : '',
        c.closed_at ? `closed ${utc(c.closed_at, { seconds: true })}` : '',
        c.result_message,
      ]
        .filter(Boolean)
        .join(' · '),
    ],
  };
}

// Every state the replica entered; its newest one carries the replica's anchor.
function replicaItems(r) {
  const entered = Object.entries(r.entered_at).filter(([, at]) => at);
  const newest = entered.reduce((best, [, at], i) => (at > entered[best][1] ? i : best), 0);
  return entered.map(([state, at], i) => ({
    at,
    kind: 'replica',
    anchor: i === newest ? `replica-${r.id}` : undefined,
    title: `Replica ${state}`,
    state,
    lines: [
      `${r.replica_type} replica in ${r.pool_id}${r.instance_id ? ` on ${r.instance_id}` : ''}`,
      state === 'failed' ? r.error : '',
    ],
  }));
}

function eventItem(e) {
  return { at: e.at, kind: 'event', title: e.kind.replaceAll('_', ' '), lines: [e.detail, e.instance_id] };
}

// Ties keep this order, newest first: a command shows above the decision that
// queued it in the same instant.
export function timelineOf({ switches, incidents, commands, replicas, events, decisions }) {
  return [
    ...switches.map(switchItem),
    ...incidents.map(incidentItem),
    ...commands.map(commandItem),
    ...replicas.flatMap(replicaItems),
    ...events.map(eventItem),
    ...decisions.map(decisionItem),
  ].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}

// show: the anchor of an item to bring into view (its kind is shown if hidden).
export function Timeline({ items, show }) {
  const [shown, setShown] = useState(() => new Set(KINDS.map(([k]) => k)));
  const targetKind = show ? items.find((i) => i.anchor === show)?.kind : undefined;
  useEffect(() => {
    if (targetKind && !shown.has(targetKind)) setShown(new Set([...shown, targetKind]));
  }, [show, targetKind]);
  // Once, when it is on screen: later renders leave the focus where the user put it.
  const onScreen = targetKind && shown.has(targetKind) ? show : null;
  useEffect(() => {
    const element = onScreen && document.getElementById(`timeline-${onScreen}`);
    if (!element) return;
    element.scrollIntoView({ block: 'center' });
    element.focus();
  }, [onScreen]);
  const toggle = (kind) =>
    setShown((s) => {
      const next = new Set(s);
      if (!next.delete(kind)) next.add(kind);
      return next;
    });
  const visible = items.filter((i) => shown.has(i.kind));
  return (
    <>
      <fieldset class="kinds">
        <legend>Show</legend>
        {KINDS.map(([kind, label]) => (
          <label key={kind} class={`kind-${kind}`}>
            <input type="checkbox" checked={shown.has(kind)} onChange={() => toggle(kind)} />
            {label} ({items.filter((i) => i.kind === kind).length})
          </label>
        ))}
      </fieldset>
      {visible.length === 0 ? (
        <p class="muted">Nothing to show.</p>
      ) : (
        <ol class="timeline" tabIndex={0} aria-label="Timeline, newest first">
          {visible.map((item, k) => (
            <li
              key={k}
              class={`kind-${item.kind}${item.anchor && item.anchor === show ? ' target' : ''}`}
              id={item.anchor ? `timeline-${item.anchor}` : undefined}
              tabIndex={item.anchor ? -1 : undefined}
            >
              <time datetime={item.at}>{utc(item.at, { seconds: true })}</time>
              <div>
                <p class="title">
                  {item.title} {item.state ? <Badge value={item.state} /> : null}
                </p>
                {item.lines.filter(Boolean).map((line, n) => (
                  <p key={n} class="detail">
                    {line}
                  </p>
                ))}
              </div>
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
