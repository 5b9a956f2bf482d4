"""``flambeau.distributions``: the common probability distributions of ``torch.distributions``.

``Normal``, ``Uniform``, ``Bernoulli``, ``Categorical``, ``OneHotCategorical``, ``Exponential``,
``Laplace``, ``MultivariateNormal`` and ``Independent``, with ``sample``/``rsample``,
``log_prob``, ``entropy``, ``mean``/``variance``/``stddev``, ``cdf``/``icdf`` where PyTorch has
them, and ``kl_divergence`` between distributions of the same family. Samples draw from the
same generator calls as PyTorch's, so with the NumPy backend a seeded script samples PyTorch's
values. Log-densities and entropies are tensor expressions, differentiable in the parameters
(``rsample`` is reparameterised).

>>> import flambeau
>>> from flambeau.distributions import Normal
>>> Normal(0.0, 1.0).log_prob(flambeau.tensor(0.0))
tensor(-0.9189)
"""
from __future__ import annotations

import math

from . import _dtype as dt
from ._tensor import Size, Tensor
from .autograd.grad_mode import no_grad

__all__ = [
    "Bernoulli", "Categorical", "Distribution", "Exponential", "Independent", "Laplace",
    "MultivariateNormal", "Normal", "OneHotCategorical", "Uniform", "kl_divergence",
    "register_kl",
]


def _as_tensors(*values):
    """Numbers and tensors broadcast to one shape; numbers take the tensors' (or the default)
    dtype, as ``torch.distributions.utils.broadcast_all``."""
    from ._creation import tensor
    from ._ops.shape import broadcast_tensors

    ref = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = ref.dtype if ref is not None else dt.get_default_dtype()
    device = ref.device if ref is not None else None
    ts = [v if isinstance(v, Tensor) else tensor(float(v), dtype=dtype, device=device)
          for v in values]
    return broadcast_tensors(*ts)


def _clamp_probs(probs):
    eps = dt.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


class Distribution:
    """Base class: batch and event shapes, argument validation, sample shapes."""

    has_rsample = False
    arg_constraints: dict = {}
    _validate_args = True

    @staticmethod
    def set_default_validate_args(value):
        Distribution._validate_args = bool(value)

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            for name, (check, text) in self.arg_constraints.items():
                value = self.__dict__.get(name)
                if value is None:
                    continue
                if not bool(check(value).all()):
                    raise ValueError(
                        f"Expected parameter {name} ({type(value).__name__} of shape "
                        f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                        f"constraint {text}, but found invalid values:\n{value}")

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=()):
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sampler")

    def sample_n(self, n):
        return self.sample((n,))

    @property
    def stddev(self):
        return self.variance.sqrt()

    def perplexity(self):
        return self.entropy().exp()

    def __repr__(self):
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(
            f"{k}: {self.__dict__[k] if self.__dict__[k].numel() == 1 else self.__dict__[k].size()}"
            for k in names)
        return f"{type(self).__name__}({args})"


_POSITIVE = (lambda v: v > 0, "GreaterThan(lower_bound=0.0)")
_REAL = (lambda v: v == v, "Real()")
_UNIT = (lambda v: (v >= 0) & (v <= 1), "Interval(lower_bound=0.0, upper_bound=1.0)")


class _LocScale(Distribution):
    """Base of the location-scale families: a real ``loc``, a positive ``scale``, mean ``loc``."""

    arg_constraints = {"loc": _REAL, "scale": _POSITIVE}
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _as_tensors(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc


class Normal(_LocScale):
    """The normal distribution with mean ``loc`` and standard deviation ``scale``."""

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale.pow(2)

    def sample(self, sample_shape=()):
        from ._random import normal

        shape = self._extended_shape(sample_shape)
        with no_grad():
            return normal(self.loc.expand(shape), self.scale.expand(shape))

    def rsample(self, sample_shape=()):
        from ._random import normal

        shape = self._extended_shape(sample_shape)
        from ._creation import ones, zeros

        eps = normal(zeros(shape, dtype=self.loc.dtype, device=self.loc.device),
                     ones(shape, dtype=self.loc.dtype, device=self.loc.device))
        return self.loc + eps * self.scale

    def log_prob(self, value):
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - math.log(
            math.sqrt(2 * math.pi))

    def cdf(self, value):
        return 0.5 * (1 + ((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)).erf())

    def icdf(self, value):
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()


class Uniform(Distribution):
    """The uniform distribution on ``[low, high)``."""

    arg_constraints = {"low": _REAL, "high": _REAL}
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = _as_tensors(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)
        if self._validate_args and not bool((self.low < self.high).all()):
            raise ValueError(
                f"Expected parameter low ({type(self.low).__name__} of shape "
                f"{tuple(self.low.shape)}) of distribution {self!r} to satisfy the constraint "
                f"LessThan(upper_bound=high), but found invalid values:\n{self.low}")

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=()):
        from ._random import rand

        shape = self._extended_shape(sample_shape)
        u = rand(shape, dtype=self.low.dtype, device=self.low.device)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        lb = self.low.le(value).type_as(self.low)
        ub = self.high.gt(value).type_as(self.low)
        return (lb * ub).log() - (self.high - self.low).log()

    def cdf(self, value):
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return (self.high - self.low).log()


class Bernoulli(Distribution):
    """0/1 outcomes with probability ``probs`` of 1 (or ``logits``, its log-odds)."""

    arg_constraints = {"probs": _UNIT, "logits": _REAL}

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = _as_tensors(probs)
            shape = self.probs.shape
        else:
            (self.logits,) = _as_tensors(logits)
            shape = self.logits.shape
        super().__init__(shape, validate_args=validate_args)

    def __getattr__(self, name):
        if name == "probs":
            self.probs = self.__dict__["logits"].sigmoid()
            return self.probs
        if name == "logits":
            p = _clamp_probs(self.__dict__["probs"])
            self.logits = p.log() - (-p).log1p()
            return self.logits
        raise AttributeError(name)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        m = (self.probs >= 0.5).to(self.probs.dtype)
        return m.masked_fill(self.probs == 0.5, math.nan)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    @property
    def param_shape(self):
        return self._batch_shape

    def sample(self, sample_shape=()):
        from ._random import bernoulli

        shape = self._extended_shape(sample_shape)
        with no_grad():
            return bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        from ._ops.shape import broadcast_tensors
        from .nn.functional import binary_cross_entropy_with_logits

        logits, value = broadcast_tensors(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        from .nn.functional import binary_cross_entropy_with_logits

        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


class Categorical(Distribution):
    """One of ``K`` categories with probabilities ``probs`` (normalised along the last dim) or
    unnormalised log-probabilities ``logits``."""

    arg_constraints = {"probs": (lambda v: v >= 0, "Simplex()"), "logits": _REAL}

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            param = self.probs
        else:
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
            param = self.logits
        self._num_events = param.shape[-1]
        super().__init__(param.shape[:-1], validate_args=validate_args)

    def __getattr__(self, name):
        if name == "probs":
            self.probs = self.__dict__["logits"].softmax(-1)
            return self.probs
        if name == "logits":
            self.logits = _clamp_probs(self.__dict__["probs"]).log()
            return self.logits
        raise AttributeError(name)

    @property
    def param_shape(self):
        return self.probs.shape

    @property
    def mean(self):
        return self.probs.new_full(self._extended_shape(), math.nan)

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    @property
    def variance(self):
        return self.probs.new_full(self._extended_shape(), math.nan)

    def sample(self, sample_shape=()):
        from ._random import multinomial

        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        n = 1
        for s in sample_shape:
            n *= s
        with no_grad():
            probs_2d = self.probs.reshape(-1, self._num_events)
            samples_2d = multinomial(probs_2d, n, True).T
        return samples_2d.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value):
        from ._ops.shape import broadcast_tensors

        value = value.long().unsqueeze(-1)
        value, log_pmf = broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=dt.finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        from ._creation import arange

        values = arange(self._num_events, device=self.probs.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


class OneHotCategorical(Distribution):
    """``Categorical`` whose samples are one-hot vectors."""

    arg_constraints = Categorical.arg_constraints

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=False)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        from .nn.functional import one_hot

        index = self._categorical.sample(sample_shape)
        return one_hot(index, self._event_shape[0]).to(self.probs.dtype)

    def log_prob(self, value):
        return self._categorical.log_prob(value.max(-1)[1])

    def entropy(self):
        return self._categorical.entropy()


class Exponential(Distribution):
    """The exponential distribution with ``rate``."""

    arg_constraints = {"rate": _POSITIVE}
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = _as_tensors(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()):
        from ._creation import empty

        shape = self._extended_shape(sample_shape)
        e = empty(shape, dtype=self.rate.dtype, device=self.rate.device).exponential_()
        return e / self.rate

    def log_prob(self, value):
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        return -(-value).log1p() / self.rate

    def entropy(self):
        return 1.0 - self.rate.log()


class Laplace(_LocScale):
    """The Laplace distribution with location ``loc`` and scale ``scale``."""

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    def rsample(self, sample_shape=()):
        from ._creation import empty

        shape = self._extended_shape(sample_shape)
        eps = dt.finfo(self.loc.dtype).eps
        u = empty(shape, dtype=self.loc.dtype, device=self.loc.device).uniform_(eps - 1, 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        z = value - self.loc
        return 0.5 - 0.5 * z.sign() * (-z.abs() / self.scale).expm1()

    def entropy(self):
        return 1 + (2 * self.scale).log()


class MultivariateNormal(Distribution):
    """The multivariate normal with mean ``loc`` and one of ``covariance_matrix``,
    ``precision_matrix`` or ``scale_tril`` (the Cholesky factor of the covariance)."""

    arg_constraints = {"loc": _REAL}
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        from . import linalg

        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError(
                "Exactly one of covariance_matrix or precision_matrix or scale_tril may be "
                "specified.")
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if scale_tril is not None:
            L = scale_tril
        elif covariance_matrix is not None:
            L = linalg.cholesky(covariance_matrix)
        else:
            L = linalg.cholesky(linalg.inv(precision_matrix))
        from ._ops.shape import broadcast_shapes

        batch = broadcast_shapes(L.shape[:-2], loc.shape[:-1])
        self.loc = loc.expand(tuple(batch) + (loc.shape[-1],))
        self._unbroadcasted_scale_tril = L
        self.scale_tril = L.expand(tuple(batch) + tuple(L.shape[-2:]))
        super().__init__(batch, loc.shape[-1:], validate_args=validate_args)

    @property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).expand(tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @property
    def precision_matrix(self):
        from . import linalg

        return linalg.inv(self.covariance_matrix)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape=()):
        from ._creation import ones, zeros
        from ._random import normal

        shape = self._extended_shape(sample_shape)
        eps = normal(zeros(shape, dtype=self.loc.dtype, device=self.loc.device),
                     ones(shape, dtype=self.loc.dtype, device=self.loc.device))
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value):
        from . import linalg

        diff = value - self.loc
        L = self._unbroadcasted_scale_tril
        from ._ops.shape import broadcast_shapes

        batch = broadcast_shapes(L.shape[:-2], diff.shape[:-1])
        Lb = L.expand(tuple(batch) + tuple(L.shape[-2:]))
        db = diff.expand(tuple(batch) + (diff.shape[-1],))
        z = linalg.solve_triangular(Lb, db.unsqueeze(-1), upper=False).squeeze(-1)
        M = z.pow(2).sum(-1)
        half_log_det = L.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - half_log_det

    def entropy(self):
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        return H.expand(self._batch_shape) if len(self._batch_shape) else H


class Independent(Distribution):
    """Reinterpret the last ``reinterpreted_batch_ndims`` batch dims of ``base_distribution``
    as event dims (their log-probabilities are summed)."""

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        event_dim = reinterpreted_batch_ndims + len(base_distribution.event_shape)
        cut = len(shape) - event_dim
        super().__init__(shape[:cut], shape[cut:], validate_args=False)

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def variance(self):
        return self.base_dist.variance

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def _sum_rightmost(self, x):
        n = self.reinterpreted_batch_ndims
        return x.reshape(tuple(x.shape[:x.ndim - n]) + (-1,)).sum(-1) if n else x

    def log_prob(self, value):
        return self._sum_rightmost(self.base_dist.log_prob(value))

    def entropy(self):
        return self._sum_rightmost(self.base_dist.entropy())


# =============================================================================
# KL divergence
# =============================================================================

_KL_REGISTRY: dict = {}


def register_kl(type_p, type_q):
    """Decorator registering ``fn(p, q)`` as ``kl_divergence`` for the pair of types."""
    def decorator(fn):
        _KL_REGISTRY[(type_p, type_q)] = fn
        return fn

    return decorator


def kl_divergence(p, q):
    """``KL(p || q)`` for a registered pair of distribution types."""
    for tp in type(p).__mro__:
        for tq in type(q).__mro__:
            fn = _KL_REGISTRY.get((tp, tq))
            if fn is not None:
                return fn(p, q)
    raise NotImplementedError(
        f"No KL(p || q) is implemented for p type {type(p).__name__} and q type "
        f"{type(q).__name__}")


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = t.masked_fill((q.probs == 0).expand_as(t), math.inf)
    t = t.masked_fill((p.probs == 0).expand_as(t), 0)
    return t.sum(-1)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    from .nn.functional import softplus

    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = t1.masked_fill(q.probs == 0, math.inf).masked_fill(p.probs == 0, 0)
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = t2.masked_fill(q.probs == 1, math.inf).masked_fill(p.probs == 1, 0)
    return t1 + t2


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return result.masked_fill((q.low > p.low) | (q.high < p.high), math.inf)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    rate_ratio = q.rate / p.rate
    return rate_ratio - 1 - rate_ratio.log()


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    from . import linalg

    n = p.event_shape[0]
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_term1 = Lq.diagonal(dim1=-2, dim2=-1).log().sum(-1) - \
        Lp.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    A = linalg.solve_triangular(Lq, Lp, upper=False)
    term2 = A.pow(2).sum((-2, -1))
    d = linalg.solve_triangular(Lq, (q.loc - p.loc).unsqueeze(-1), upper=False)
    term3 = d.pow(2).sum((-2, -1))
    return half_term1 + 0.5 * (term2 + term3 - n)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("KL between Independents with different event dims")
    return p._sum_rightmost(kl_divergence(p.base_dist, q.base_dist))
