"""Training: same seed and data, same models; weights as the model card states them."""

import numpy as np

from twitchwatch.core.classify import CompiledForest, SeizureModel
from twitchwatch.core.context import SEIZURE_FEATURE_NAMES
from twitchwatch.learn.corpus import UnitInfo, Windows, sim_windows, weigh
from twitchwatch.learn.fit import fit_window_model, train_seizure_model


def small(seed):
    return sim_windows("foot", seed, subjects=4, minutes=1.5)


def test_same_seed_same_corpus_and_same_models_other_seed_other_corpus():
    a, b = small(3), small(3)
    assert a.X.shape[1] == len(SEIZURE_FEATURE_NAMES) and set(a.y.tolist()) >= {0, 1}
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    m1, m2 = fit_window_model(a, 3), fit_window_model(b, 3)
    assert np.array_equal(CompiledForest(m1).value, CompiledForest(m2).value)
    s1, _ = train_seizure_model(a, "foot", 3)
    s2, _ = train_seizure_model(b, "foot", 3)
    assert isinstance(s1, SeizureModel) and s1.settings == s2.settings
    assert np.array_equal(s1.forest.threshold, s2.forest.threshold) and np.array_equal(s1.forest.value, s2.forest.value)
    c = small(4)
    assert c.X.shape != a.X.shape or not np.array_equal(c.X, a.X)


def unit(name, set_, group, seizures=()):
    return UnitInfo(name, set_, group, "wrist", 100.0, seizures)


def test_real_data_carries_half_the_weight_split_by_set_then_person_and_classes_are_balanced():
    units = (unit("s", "sim_wrist", "sim:0", ((0.0, 10.0),)), unit("a", "adl", "adl:p1"), unit("b", "adl", "adl:p2"),
             unit("c", "har", "har:q"))
    # sim: 10 windows (2 seizure); adl p1: 30 windows, adl p2: 10; har: 5
    unit_of = np.repeat([0, 1, 2, 3], [10, 30, 10, 5])
    y = np.zeros(unit_of.size, np.int8)
    y[:2] = 1
    y[12] = -1  # left out: weight 0
    w = Windows(np.zeros((unit_of.size, 1)), np.zeros((unit_of.size, 1)), y, np.full(y.size, -1), (y >= 0).astype(float), unit_of,
                np.arange(y.size, dtype=float), np.ones(y.size, bool), units)
    weight = weigh(w)
    assert weight[12] == 0
    neg = weight[y == 0]
    assert np.isclose(weight[y == 1].sum(), neg.sum())  # balanced classes
    sim_neg, p1, p2, har = (weight[(unit_of == u) & (y == 0)].sum() for u in range(4))
    assert np.isclose(p1, p2) and np.isclose(p1 + p2, har)  # sets equal, persons within a set equal
    assert np.isclose(p1 + p2 + har, (sim_neg / 0.8) * 1.0)  # real = half the total (sim: 8 of its 10 windows negative)
