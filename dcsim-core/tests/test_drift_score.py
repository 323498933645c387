"""The answer key: precision, recall and times scored against what dc-sim injected, and the
drill (acceptance 3: at least 20 mixed faults and out-of-band changes, recall and precision 1.0)."""

from __future__ import annotations

import random
from datetime import timedelta

from test_drift_files import events

from dcsim.drift import drill
from dcsim.drift.answer_key import score
from dcsim.drift.model import Category, DriftEvent, TruthItem
from dcsim.drift.textdiff import reverse_apply
from dcsim.model import utcnow
from dcsim.sim.nodes.changes import unified_diff


def _event(object_id: str, field: str, after: float) -> DriftEvent:
    now = utcnow()
    return DriftEvent(ci=object_id, ci_name=object_id, ci_type="vm", object_id=object_id, field=field,
                      category=Category.STATE, severity="high", policy="p", detected_at=now + timedelta(seconds=after))  # fmt: skip


def test_score_counts_false_positives_misses_and_times():
    t0 = utcnow()
    truth = [
        TruthItem(object_id="a", name="a", kind="vm", field="power_state", source="x", injected_at=t0),
        TruthItem(object_id="b", name="b", kind="host", field=None, source="fault", injected_at=t0),
        TruthItem(object_id="c", name="c", kind="vm", field="/etc/hosts", source="x", injected_at=t0),
    ]
    found = [_event("a", "power_state", 1.0), _event("b", "health", 3.0), _event("z", "health", 1.0),
             _event("c", "/etc/passwd", 1.0)]  # fmt: skip
    result = score(truth, found)
    assert (result["injected"], result["detected"], result["detections"], result["true_positives"]) == (3, 2, 4, 2)
    assert result["precision"] == 0.5 and abs(result["recall"] - 2 / 3) < 1e-9
    assert [item["name"] for item in result["missed"]] == ["c"]
    assert {e["object_id"] for e in result["false_positives"]} == {"z", "c"}
    assert 1.9 < result["mean_time_to_detect"] < 2.1 and 2.9 < result["p95_time_to_detect"] < 3.1
    assert result["mean_time_to_remediate"] is None
    # A detection before the injection is no answer to it.
    early = score([truth[0]], [_event("a", "power_state", -5.0)])
    assert early["recall"] == 0.0 and early["precision"] == 0.0


def test_the_known_good_text_is_rebuilt_from_a_change_diff():
    rnd = random.Random(15)
    for _ in range(300):
        old = "".join(rnd.choice(["a\n", "b\n", "c\n", "# d\n"]) for _ in range(rnd.randint(0, 25)))
        lines = old.splitlines(keepends=True)
        for _ in range(rnd.randint(1, 4)):
            lines.insert(rnd.randint(0, len(lines)), rnd.choice(["x\n", "y\n"]))
            if lines and rnd.random() < 0.5:
                lines.pop(rnd.randrange(len(lines)))
        new = "".join(lines).rstrip("\n") if rnd.random() < 0.3 else "".join(lines)
        if new != old:
            assert reverse_apply(unified_diff("/etc/x", old, new), new) == old
    assert reverse_apply(unified_diff("/etc/shadow", None, "root:*:1::::::\n"), "root:*:1::::::\n") is None


def test_a_drill_of_mixed_faults_and_out_of_band_changes_scores_recall_and_precision_one(make_client, capsys):
    client = make_client(disable_plugins=("ansible",))
    result = drill.run(client, size=24)
    printed = capsys.readouterr().out
    kinds = {item["source"] for item in client.get("/drift/truth?limit=500").json()["items"]}
    assert kinds == {"out-of-band:file", "out-of-band:power", "out-of-band:network", "fault:host-failure",
                     "fault:network-partition"}  # fmt: skip
    assert result["injected"] >= 20 and result["detected"] == result["injected"]
    assert result["recall"] == 1.0 and result["precision"] == 1.0, drill.scorecard(result)
    assert len(result["detection_times"]) == result["injected"]
    assert 0 <= result["mean_time_to_detect"] <= result["p95_time_to_detect"] < 2.0
    assert "precision 1.000  recall 1.000" in printed and "time to detect: mean" in printed
    with capsys.disabled():
        print("\ndrill scorecard:\n" + printed)
    assert client.get("/drift/score").json()["recall"] == 1.0
    assert len(events(client)) == result["detections"]
