// How the dashboard words a decision: the decision layer's codes (action, reason,
// guard, trigger) as an operator reads them, and its figures (risk, confidence,
// savings per hour) with their exact values. Unknown codes from a newer server are
// shown as they come.
const ACTIONS = {
  stay: 'Stay',
  switch_spot: 'Switch',
  switch_ondemand: 'Switch to on-demand',
  create_replica: 'Create a replica',
  promote_replica: 'Promote the replica',
};

const REASONS = {
  no_better_placement: 'nothing beats where it runs by enough',
  no_price: 'its own price is unknown, stale or in a gap',
  spot_near_ondemand: 'spot is near the on-demand price',
  back_to_spot: 'a spot pool is well below on-demand',
  cheaper_pool: 'another pool saves enough',
  lower_expected_cost: 'cheaper once interruptions and moves are priced in',
  risk_above_ceiling: 'its pool is riskier than its risk ceiling',
  rebalance_signal: 'a rebalance recommendation',
  termination_notice: 'a termination notice',
};

const GUARDS = {
  agent_disabled: 'the agent is disabled',
  auto_switch_off: 'automatic switches are off',
  replica_mode_off: 'replicas are off',
  switch_pending: 'a switch is already queued',
  replica_live: 'a replica is already live',
  cooldown: 'cooldown: too soon after the last move',
  day_cap: 'the day’s switch cap is reached',
  week_cap: 'the week’s switch cap is reached',
  unknown_price: 'the price is unknown',
  stale_price: 'the price is stale',
  price_gap: 'the price is in a gap',
  interpolated_price: 'the price is only interpolated',
  min_savings: 'it saves less than the minimum',
  risk_ceiling: 'the target is above the risk ceiling',
  hysteresis: 'spot is not far enough below on-demand to return',
  no_replica_to_promote: 'no ready replica to promote',
};

const TRIGGERS = {
  schedule: 'fleet run',
  rebalance: 'rebalance recommendation',
  termination: 'termination notice',
};

const word = (table, code) => table[code] ?? code ?? '—';

export const reasonText = (code) => word(REASONS, code);
export const guardText = (code) => word(GUARDS, code);
export const triggerText = (code) => word(TRIGGERS, code);

// "Switch to c5.xlarge.eu-west-1b", "Stay", "Create a replica in m5.large.eu-west-1b".
export function actionText(action, target) {
  const text = word(ACTIONS, action);
  if (!target) return text;
  return action === 'switch_spot' ? `${text} to ${target}` : `${text} in ${target}`;
}

// What held a decision back and what it held: "held back: cooldown: too soon after
// the last move — wanted: Switch to c5.xlarge.eu-west-1c"; null when nothing did.
export function heldBackText(decision) {
  if (!decision.guard) return null;
  const wanted = decision.held_action
    ? ` — wanted: ${actionText(decision.held_action, decision.held_target_pool_id)}`
    : '';
  return `held back: ${guardText(decision.guard)}${wanted}`;
}

// 0.2231 -> "22.3%"
export function riskPercent(risk) {
  if (risk === null || risk === undefined) return '—';
  return `${(100 * risk).toFixed(1)}%`;
}

// The decision layer's default risk_threshold: above it a pool is one the default
// config will not move to. Agents may have their own.
export const DEFAULT_RISK_CEILING = 0.3;

// The interruption signals a pool's risk counts: "1 termination, 2 rebalances".
export function signalsText({ terminations, rebalances }) {
  const seen = [
    [terminations, 'termination'],
    [rebalances, 'rebalance'],
  ].filter(([n]) => n > 0);
  if (seen.length === 0) return 'none';
  return seen.map(([n, what]) => `${n} ${what}${n > 1 ? 's' : ''}`).join(', ');
}

// A risk as a level the eye can take in; the number is always shown beside it.
export function riskLevel(risk) {
  if (risk >= DEFAULT_RISK_CEILING) return 'high';
  if (risk >= DEFAULT_RISK_CEILING / 2) return 'elevated';
  return 'low';
}

export function confidencePercent(confidence) {
  return `${Math.round(100 * confidence)}%`;
}

// What became of a log entry, as a state word: acted on, held back, or neither.
export function decisionState(record) {
  if (record.acted) return 'acted';
  if (record.decision.guard) return 'held';
  return null;
}

// The engine that answered, as "rules 1.0.0".
export const engineText = (decision) => `${decision.engine} ${decision.engine_version}`;
