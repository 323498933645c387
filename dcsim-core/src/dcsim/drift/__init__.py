"""Drift detection and remediation (SPEC-014): policies, event-driven sources, drift
events against desired state, the rules that follow (change request, remediation through
the runner, re-check, escalation) and the answer key that scores detections against what
dc-sim itself injected."""
