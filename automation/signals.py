"""Loading a rule's signal conditions for one pass, through the hooks other apps register.

Each distinct signal condition of the rule is loaded once for all the pass's targets (one
query per condition, whatever the number of targets); the pure engine then only looks
the answers up (`automation.engine.Signals`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from automation.engine import Signals
from automation.registry import CONDITION_SIGNALS, SignalQuery
from automation.schema import RuleDefinition, signal_conditions


def uses_signals(definition: RuleDefinition) -> bool:
    return bool(signal_conditions(definition))


def load_signals(
    organization_id: int,
    definition: RuleDefinition,
    campaign_ids: Iterable[int],
    *,
    now: dt.datetime,
    replay: bool = False,
) -> Signals | None:
    """Every signal condition's matches among `campaign_ids`; None if the rule has none."""
    conditions = signal_conditions(definition)
    if not conditions:
        return None
    ids = sorted(set(campaign_ids))
    loaded: dict[str, dict[int, str]] = {}
    for _, condition in conditions:
        key = condition.key()
        if key in loaded:
            continue
        signal = CONDITION_SIGNALS[condition.signal]
        params = signal.params.model_validate(condition.params())
        found = (
            signal.load(
                SignalQuery(organization_id=organization_id, campaign_ids=ids, params=params,
                            now=now, replay=replay)
            )
            if ids
            else {}
        )  # fmt: skip
        # A loader answers for the campaigns it was asked about, never others.
        wanted = set(ids)
        loaded[key] = {campaign: why for campaign, why in found.items() if campaign in wanted}
    return loaded
