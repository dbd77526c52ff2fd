"""Probability densities: shapes, sums, and the base class for your own.

>>> import nfit
>>> obs = nfit.Space("m", limits=(5.0, 5.6))
>>> model = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=5.28, sigma=0.025, obs=obs),
...                          nfit.pdf.Exponential(lam=-1.5, obs=obs)], fracs=0.3)
>>> model.obs
('m',)
"""
from .base import BasePDF
from .binned import KDE1DimFFT, KDE1DimGrid, KDE1DimISJ
from .binnedpdf import BaseBinnedPDF, BinnedFromUnbinnedPDF, BinnedSumPDF, BinwiseScaleModifier
from .catalogue import Argus, BifurGauss, Cauchy, CrystalBall, DoubleCB, JohnsonSU, LogNormal, StudentT, Voigt
from .conditional import ConditionalPDFV1
from .convolution import FFTConvPDFV1
from .custom import supports
from .distributions import ChiSquared, Gamma, Poisson, QGauss
from .functor import BaseFunctor
from .histogram import HistogramPDF
from .interpolation import SplinePDF
from .kde import GaussianKDE1DimV1, KDE1DimExact
from .kernelnd import KernelPDFND
from .morphing import SplineMorphingPDF
from .polynomial import Bernstein, Chebyshev, Legendre, Polynomial
from .product import ProductPDF
from .shape import Exponential, Gauss, KernelPDF, Uniform
from .sum import SumPDF
from .tails import GaussExpTail, GeneralizedCB
from .truncated import TruncatedPDF
from .zpdf import ZPDF

__all__ = ["BasePDF", "KernelPDF", "Gauss", "Exponential", "Uniform", "SumPDF", "ProductPDF", "ZPDF",
           "CrystalBall", "DoubleCB", "Cauchy", "BifurGauss", "JohnsonSU", "LogNormal", "StudentT", "Argus",
           "Chebyshev", "Legendre", "Bernstein", "Polynomial", "KDE1DimExact", "Voigt", "KDE1DimGrid",
           "HistogramPDF", "BaseFunctor", "supports", "KDE1DimFFT", "KDE1DimISJ", "GaussianKDE1DimV1", "TruncatedPDF",
           "BaseBinnedPDF", "BinnedFromUnbinnedPDF", "BinnedSumPDF", "BinwiseScaleModifier", "GeneralizedCB",
           "GaussExpTail", "QGauss", "Gamma", "ChiSquared", "Poisson", "FFTConvPDFV1",
           "ConditionalPDFV1", "SplineMorphingPDF", "SplinePDF", "KernelPDFND"]
