"""Counts and probabilities of SplineMorphingPDF on two knot sets, as zfit 0.28 gives them, stored in
morphing_zfit_reference.json by

    python tests/data/morphing_reference.py zfit > tests/data/morphing_zfit_reference.json
"""
import json
import sys

import numpy as np


def main(lib):
    obs = lib.Space("x", binning=lib.binned.RegularBinning(5, 0, 5, name="x"))
    vals = [[10., 20., 30., 20., 10.], [15., 25., 25., 15., 10.], [30., 25., 20., 10., 5.], [40., 20., 10., 5., 5.]]
    out = {}
    for knots in ([-1., 0., 1.], [-2., -0.5, 1., 2.5]):
        hs = {}
        for k, v in zip(knots, vals):
            d = lib.data.BinnedData.from_tensor(obs, np.array(v))
            hs[k] = lib.pdf.HistogramPDF(d, extended=None)
        alpha = lib.Parameter(f"alpha{len(knots)}", 0.0)
        m = lib.pdf.SplineMorphingPDF(alpha, hs)
        for a in (-0.7, 0.0, 0.3, 1.5):
            alpha.set_value(a)
            out[f"{len(knots)}_{a}_counts"] = np.asarray(m.counts()).tolist()
            out[f"{len(knots)}_{a}_rel"] = np.asarray(m.rel_counts()).tolist()
    print(json.dumps(out))


if __name__ == "__main__":
    main(__import__(sys.argv[1]))
