{#- GENERATED from contracts/EVENTS.md by `python -m transforms.catalog`; do not edit. -#}
{#- {contract name: {event name: [[field, typed-JSON type], ...]}} -#}
{% macro event_catalog() %}
{{ return({
  'bithedge-parameters': {
    'role-granted': [['who', 'principal'], ['role', 'string-ascii'], ['sender', 'principal'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'role-revoked': [['who', 'principal'], ['role', 'string-ascii'], ['sender', 'principal'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'param-updated': [['key', 'string-ascii'], ['old-value', 'uint'], ['value', 'uint'], ['sender', 'principal'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'tier-updated': [['tier-kind', 'string-ascii'], ['tier', 'string-ascii'], ['field', 'string-ascii'], ['collateral-ratio-bp', 'uint'], ['premium-adjustment-bp', 'uint'], ['max-utilization-bp', 'uint'], ['max-exposure-policy-bp', 'uint'], ['max-exposure-expiry-bp', 'uint'], ['active', 'bool'], ['sender', 'principal'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'pause-set': [['action', 'string-ascii'], ['paused', 'bool'], ['previous', 'bool'], ['sender', 'principal'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
  },
  'bithedge-oracle': {
    'price-submitted': [['asset', 'string-ascii'], ['price', 'uint'], ['previous-price', 'uint'], ['previous-height', 'uint'], ['reference-price', 'uint'], ['reference-height', 'uint'], ['allowed-bp', 'uint'], ['updates', 'uint'], ['replaced', 'bool'], ['guard-bypassed', 'bool'], ['submitter', 'principal'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
  },
  'bithedge-vault': {
    'pool-created': [['token', 'string-ascii'], ['tier', 'string-ascii'], ['sender', 'principal'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'pool-deposit': [['token', 'string-ascii'], ['tier', 'string-ascii'], ['provider', 'principal'], ['amount', 'uint'], ['shares', 'uint'], ['provider-shares', 'uint'], ['pool-assets', 'uint'], ['pool-unearned', 'uint'], ['pool-shares', 'uint'], ['pool-locked', 'uint'], ['pool-pending-shares', 'uint'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'pool-withdraw': [['token', 'string-ascii'], ['tier', 'string-ascii'], ['provider', 'principal'], ['amount', 'uint'], ['shares', 'uint'], ['after-expiry', 'uint'], ['provider-shares', 'uint'], ['pool-assets', 'uint'], ['pool-unearned', 'uint'], ['pool-shares', 'uint'], ['pool-locked', 'uint'], ['pool-pending-shares', 'uint'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'withdrawal-requested': [['token', 'string-ascii'], ['tier', 'string-ascii'], ['provider', 'principal'], ['shares', 'uint'], ['after-expiry', 'uint'], ['provider-shares', 'uint'], ['pool-assets', 'uint'], ['pool-unearned', 'uint'], ['pool-shares', 'uint'], ['pool-locked', 'uint'], ['pool-pending-shares', 'uint'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'withdrawal-cancelled': [['token', 'string-ascii'], ['tier', 'string-ascii'], ['provider', 'principal'], ['shares', 'uint'], ['after-expiry', 'uint'], ['provider-shares', 'uint'], ['pool-assets', 'uint'], ['pool-unearned', 'uint'], ['pool-shares', 'uint'], ['pool-locked', 'uint'], ['pool-pending-shares', 'uint'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'withdrawal-executed': [['token', 'string-ascii'], ['tier', 'string-ascii'], ['provider', 'principal'], ['amount', 'uint'], ['shares', 'uint'], ['after-expiry', 'uint'], ['provider-shares', 'uint'], ['pool-assets', 'uint'], ['pool-unearned', 'uint'], ['pool-shares', 'uint'], ['pool-locked', 'uint'], ['pool-pending-shares', 'uint'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'pool-wiped': [['token', 'string-ascii'], ['tier', 'string-ascii'], ['voided-shares', 'uint'], ['generation', 'uint'], ['pool-assets', 'uint'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
  },
  'bithedge-policy-registry': {
    'policy-created': [['policy-id', 'uint'], ['owner', 'principal'], ['quote-id', 'uint'], ['signer', 'principal'], ['token', 'string-ascii'], ['tier', 'string-ascii'], ['buyer-tier', 'string-ascii'], ['strike', 'uint'], ['amount', 'uint'], ['expiry', 'uint'], ['premium', 'uint'], ['protocol-fee', 'uint'], ['fund-share', 'uint'], ['pool-premium', 'uint'], ['collateral', 'uint'], ['max-payout', 'uint'], ['stress-price', 'uint'], ['coverage-floor', 'uint'], ['spot-price', 'uint'], ['spot-price-height', 'uint'], ['quote-spot', 'uint'], ['issued-at', 'uint'], ['collateral-price', 'uint'], ['collateral-price-height', 'uint'], ['price-delay', 'uint'], ['void-after', 'uint'], ['pool-assets', 'uint'], ['pool-unearned', 'uint'], ['pool-shares', 'uint'], ['pool-locked', 'uint'], ['pool-pending-shares', 'uint'], ['expiry-locked', 'uint'], ['expiry-count', 'uint'], ['owner-active', 'uint'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'policy-settled': [['policy-id', 'uint'], ['owner', 'principal'], ['token', 'string-ascii'], ['tier', 'string-ascii'], ['buyer-tier', 'string-ascii'], ['status', 'string-ascii'], ['strike', 'uint'], ['amount', 'uint'], ['expiry', 'uint'], ['premium', 'uint'], ['pool-premium', 'uint'], ['collateral', 'uint'], ['uncapped-payout', 'uint'], ['payout', 'uint'], ['shortfall', 'uint'], ['fund-cover', 'uint'], ['released', 'uint'], ['settlement-price', 'uint'], ['settlement-price-height', 'uint'], ['collateral-price', 'uint'], ['collateral-price-height', 'uint'], ['pool-assets', 'uint'], ['pool-unearned', 'uint'], ['pool-shares', 'uint'], ['pool-locked', 'uint'], ['pool-pending-shares', 'uint'], ['expiry-locked', 'uint'], ['owner-active', 'uint'], ['settler', 'principal'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'policy-voided': [['policy-id', 'uint'], ['owner', 'principal'], ['token', 'string-ascii'], ['tier', 'string-ascii'], ['buyer-tier', 'string-ascii'], ['expiry', 'uint'], ['premium', 'uint'], ['refund', 'uint'], ['collateral', 'uint'], ['void-after', 'uint'], ['missing-asset', 'string-ascii'], ['pool-assets', 'uint'], ['pool-unearned', 'uint'], ['pool-shares', 'uint'], ['pool-locked', 'uint'], ['pool-pending-shares', 'uint'], ['expiry-locked', 'uint'], ['owner-active', 'uint'], ['sender', 'principal'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
  },
  'bithedge-treasury': {
    'fee-collected': [['token', 'string-ascii'], ['amount', 'uint'], ['policy-id', 'uint'], ['payer', 'principal'], ['balance', 'uint'], ['fees', 'uint'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'treasury-disbursed': [['token', 'string-ascii'], ['amount', 'uint'], ['recipient', 'principal'], ['sender', 'principal'], ['balance', 'uint'], ['disbursed', 'uint'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
  },
  'bithedge-insurance-fund': {
    'fund-deposit': [['token', 'string-ascii'], ['amount', 'uint'], ['source', 'string-ascii'], ['policy-id', 'uint'], ['depositor', 'principal'], ['balance', 'uint'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'fund-cover': [['token', 'string-ascii'], ['policy-id', 'uint'], ['recipient', 'principal'], ['shortfall', 'uint'], ['covered', 'uint'], ['uncovered', 'uint'], ['balance', 'uint'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
  },
  'bithedge-governance': {
    'proposal-created': [['proposal-id', 'uint'], ['proposer', 'principal'], ['kind', 'string-ascii'], ['key', 'string-ascii'], ['tier-kind', 'string-ascii'], ['tier', 'string-ascii'], ['value', 'uint'], ['recipient', 'optional'], ['proposer-power', 'uint'], ['snapshot-height', 'uint'], ['start-burn-height', 'uint'], ['end-burn-height', 'uint'], ['eta-burn-height', 'uint'], ['expires-burn-height', 'uint'], ['quorum-bp', 'uint'], ['threshold-bp', 'uint'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'vote-cast': [['proposal-id', 'uint'], ['voter', 'principal'], ['support', 'bool'], ['power', 'uint'], ['yes', 'uint'], ['no', 'uint'], ['total-power', 'uint'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'proposal-executed': [['proposal-id', 'uint'], ['kind', 'string-ascii'], ['key', 'string-ascii'], ['tier-kind', 'string-ascii'], ['tier', 'string-ascii'], ['value', 'uint'], ['recipient', 'optional'], ['yes', 'uint'], ['no', 'uint'], ['total-power', 'uint'], ['executor', 'principal'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
    'proposal-cancelled': [['proposal-id', 'uint'], ['sender', 'principal'], ['yes', 'uint'], ['no', 'uint'], ['burn-height', 'uint'], ['stacks-height', 'uint']],
  },
}) }}
{% endmacro %}
