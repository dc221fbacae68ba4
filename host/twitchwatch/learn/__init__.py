"""Learning the seizure model from the simulator and real recordings, and choosing its alert
settings (owns: window corpora, sample weights, the gradient-boosting fits, setting selection).

Used by ``twitchwatch train`` (the shipped models) and ``twitchwatch evaluate --real`` (the same
procedure inside each leave-one-group-out fold). Imports ``core``, ``sim``, ``sources`` and
``evaluation.scoring``; nothing imports it but those two commands.
"""
