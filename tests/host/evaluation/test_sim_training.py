import numpy as np

from twitchwatch.commands.train import collect, fit
from twitchwatch.core.classify import CompiledForest
from twitchwatch.core.features import FEATURE_NAMES


def small(seed):
    X, y, g = collect("foot", seed, subjects=2, minutes=1.0)
    return X, y, fit(X, y, seed)


def test_same_seed_same_corpus_and_same_model_other_seed_other_corpus():
    X1, y1, m1 = small(3)
    X2, y2, m2 = small(3)
    assert X1.shape[1] == len(FEATURE_NAMES) and len(set(y1.tolist())) >= 2
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    f1, f2 = CompiledForest(m1), CompiledForest(m2)
    assert np.array_equal(f1.threshold, f2.threshold) and np.array_equal(f1.value, f2.value)
    X3, _, _ = small(4)
    assert X3.shape != X1.shape or not np.array_equal(X3, X1)
