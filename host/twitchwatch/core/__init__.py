"""Pure streaming detection: chunks of samples in, events, window labels, episodes and alerts out.

``core/`` owns everything between a source's items and an alert, and nothing else (no sources,
files, store, hub or dashboard):

- :mod:`~twitchwatch.core.config`: the detector's settings (``DetectorConfig``), each number with
  its unit and reason, and the few constants shared with sources (``GAP_TOLERANCE_SAMPLES``);
- :mod:`~twitchwatch.core.design` and :mod:`~twitchwatch.core.filters`: filter design from the
  stream's own rate and streaming Butterworth filters with carried state (chunking-independent);
- :mod:`~twitchwatch.core.blocks`: per-block reductions on the fixed hop grid;
- :mod:`~twitchwatch.core.events`: twitch and burst events over an adaptive, causal noise floor;
- :mod:`~twitchwatch.core.features`: window features, vectorised over a batch of windows;
- :mod:`~twitchwatch.core.osd`: OpenSeizureDetector's accelerometer block test, streaming;
- :mod:`~twitchwatch.core.context`: the seizure model's input (25 Hz magnitude, OSD's view, causal
  context);
- :mod:`~twitchwatch.core.classify`: window classifiers (trained model per placement, rule baseline);
- :mod:`~twitchwatch.core.episodes`: hysteresis state machines turning windows into episodes,
  warnings, alarms and fault alerts;
- :mod:`~twitchwatch.core.detector`: ``Detector``, which wires the above per stream;
- :mod:`~twitchwatch.core.run`: ``feed`` / ``run``, the one loop every caller drives a detector with;
- :mod:`~twitchwatch.core.native`: the compiled inner loops (``_kernels.c``, built by ``pip install``)
  of the filters, event detection, block statistics, window means and forest walk; each has a
  numpy/scipy reference next to its caller, used when the extension is missing (same outputs).

Pure: no clock, no threads, and no I/O apart from reading a model file and the derived-array disk
cache (:mod:`twitchwatch.cache`, which changes speed, never results). Imports only
:mod:`twitchwatch.model` and :mod:`twitchwatch.errors` of the package (plus that cache), and
numpy/scipy (skops/scikit-learn to load a trained model).
"""
