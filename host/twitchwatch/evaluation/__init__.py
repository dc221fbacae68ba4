"""Detection figures: held-out simulated subjects (``sim``), public real recordings side by side
with OpenSeizureDetector (``real``, ``crossfit``, ``datasets``, ``osd_baseline``), and the scoring
both share (``scoring``).

Owns: scoring rules and the evaluation reports. May import ``core``, ``sim``, ``learn``,
``sources.files`` and ``model``; nothing live (no store, hub, dashboard).
"""
