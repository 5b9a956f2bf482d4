"""Attention functionals, as ``torch.nn.functional``: ``scaled_dot_product_attention`` and
``multi_head_attention_forward`` (the math behind ``nn.MultiheadAttention``).

Re-exported by ``flambeau.nn.functional``.

>>> import flambeau
>>> import flambeau.nn.functional as F
>>> q = k = v = flambeau.randn(2, 4, 5, 8)  # (batch, heads, length, head dim)
>>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
flambeau.Size([2, 4, 5, 8])
"""
from __future__ import annotations

import math
import warnings

import flambeau
from flambeau import Tensor

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _F():
    from . import functional

    return functional


def _safe_softmax(scores, fully_masked):
    """Softmax over the last dim whose rows with every score ``-inf`` give zeros (not NaN), with
    zero gradient, as PyTorch's attention does."""
    scores = scores.masked_fill(fully_masked, 0.0)
    return _F().softmax(scores, -1).masked_fill(fully_masked, 0.0)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(Q K^T * scale + mask) V`` over the last two dims, as PyTorch.

    ``query (..., L, E)``, ``key (..., S, E)``, ``value (..., S, Ev)``; ``scale`` defaults to
    ``1/sqrt(E)``. ``attn_mask`` broadcasts to ``(..., L, S)``: a bool mask says where to attend
    (True = take part), a float mask is added to the scores. ``is_causal`` applies the
    lower-triangular mask (top-left aligned) and excludes ``attn_mask``. Rows that attend to
    nothing give zeros. ``dropout_p`` is applied whenever it is positive (pass 0 in eval).
    ``enable_gqa`` lets ``key``/``value`` have fewer heads (dim -3) than ``query``.
    """
    L, S = query.shape[-2], key.shape[-2]
    E = query.shape[-1]
    if key.shape[-1] != E:
        raise RuntimeError(
            f"scaled_dot_product_attention: query and key must have the same embedding size, "
            f"got {E} and {key.shape[-1]}"
        )
    if value.shape[-2] != S:
        raise RuntimeError(
            f"scaled_dot_product_attention: key and value must have the same sequence length, "
            f"got {S} and {value.shape[-2]}"
        )
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
            "is_causal=True"
        )
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
        if hq % hk or hq % hv:
            raise RuntimeError(
                "scaled_dot_product_attention: number of heads in key and value must divide the "
                f"number of heads in query (got {hq} query, {hk} key, {hv} value heads)"
            )
        key = key.repeat_interleave(hq // hk, -3)
        value = value.repeat_interleave(hq // hv, -3)
    scale_factor = 1.0 / math.sqrt(E) if scale is None else scale
    scores = (query * scale_factor) @ key.transpose(-2, -1)
    fully_masked = None
    if is_causal:
        causal = flambeau.ones((L, S), dtype=flambeau.bool, device=query.device).tril()
        scores = scores.masked_fill(causal.logical_not(), float("-inf"))
    elif attn_mask is not None:
        if attn_mask.dtype is flambeau.bool:
            scores = scores.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            scores = scores + attn_mask
        fully_masked = (scores == float("-inf")).all(-1, keepdim=True)
    if fully_masked is None:
        attn = _F().softmax(scores, -1)
    else:
        attn = _safe_softmax(scores, fully_masked)
    if dropout_p > 0.0:
        attn = _F().dropout(attn, dropout_p, True)
    return attn @ value


# =============================================================================
# multi-head attention
# =============================================================================


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask (True = masked out) becomes an additive float mask (``-inf`` where True)."""
    if mask is None:
        return None
    is_float = mask.dtype.is_floating_point
    if mask.dtype is not flambeau.bool and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype is not other_type:
        warnings.warn(
            f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type "
            "for both instead.", stacklevel=3,
        )
    if not is_float:
        mask = flambeau.zeros(mask.shape, dtype=target_type, device=mask.device).masked_fill(
            mask, float("-inf"))
    return mask


def _none_or_dtype(t):
    if t is None:
        return None
    if isinstance(t, Tensor):
        return t.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or flambeau.Tensor")


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the input is batched; raises PyTorch's errors for inconsistent dims."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                f"found {key_padding_mask.ndim}-D tensor instead"
            )
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                f"found {attn_mask.ndim}-D tensor instead"
            )
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                f"found {key_padding_mask.ndim}-D tensor instead"
            )
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                    f"but found {attn_mask.ndim}-D tensor instead"
                )
            if attn_mask.ndim == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(
                        f"Expected `attn_mask` shape to be {expected} but got "
                        f"{tuple(attn_mask.shape)}"
                    )
        return False
    raise AssertionError(
        "query should be unbatched 2D or batched 3D tensor but received "
        f"{query.ndim}-D query tensor"
    )


def _in_projection_packed(q, k, v, w, b):
    F = _F()
    E = q.shape[-1]
    if k is v:
        if q is k:  # self-attention: one matmul for q, k and v
            proj = F.linear(q, w, b)
            return tuple(proj.unflatten(-1, (3, E)).unbind(-2))
        w_q, w_kv = w.split([E, 2 * E])
        b_q, b_kv = (None, None) if b is None else b.split([E, 2 * E])
        kv = F.linear(k, w_kv, b_kv)
        return (F.linear(q, w_q, b_q),) + tuple(kv.unflatten(-1, (2, E)).unbind(-2))
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return F.linear(q, w_q, b_q), F.linear(k, w_k, b_k), F.linear(v, w_v, b_v)


def multi_head_attention_forward(
    query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k,
    bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training=True,
    key_padding_mask=None, need_weights=True, attn_mask=None, use_separate_proj_weight=False,
    q_proj_weight=None, k_proj_weight=None, v_proj_weight=None, static_k=None, static_v=None,
    average_attn_weights=True, is_causal=False,
):
    """Multi-head attention on sequence-first inputs ``(L, N, E)`` (or unbatched ``(L, E)``),
    as ``torch.nn.functional.multi_head_attention_forward``. Masks: ``key_padding_mask (N, S)``
    and ``attn_mask (L, S)`` or ``(N*num_heads, L, S)``; bool True means *masked out*, floats are
    added. Returns ``(attn_output (L, N, E), attn_weights)``: the weights are ``(N, L, S)``
    averaged over heads (``(N, num_heads, L, S)`` if not ``average_attn_weights``), or None when
    ``need_weights`` is False.
    """
    F = _F()
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
            "method `generate_square_subsequent_mask` to create this mask."
        )
    if is_causal and key_padding_mask is None and not need_weights:
        # the mask is only a hint here: scaled_dot_product_attention builds the causal one
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                    check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}"
        )
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(
                f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                f"{tuple(value.shape[:2])}"
            )
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(
            f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}"
        )

    # in-projection
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q = F.linear(query, q_proj_weight, b_q)
        k = F.linear(key, k_proj_weight, b_k)
        v = F.linear(value, v_proj_weight, b_v)

    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(
                    f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                    f"{(tgt_len, src_len)}."
                )
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(
                    f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                    f"{(bsz * num_heads, tgt_len, src_len)}."
                )
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")

    # learned key/value appended to every sequence
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key/value.")
        k = flambeau.cat([k, bias_k.repeat(1, bsz, 1)])
        v = flambeau.cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = F.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = F.pad(key_padding_mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must both be given or both be None")

    # (L, N, E) -> (N*heads, L, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    if static_k is None:
        k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        if tuple(static_k.shape[::2]) != (bsz * num_heads, head_dim):
            raise AssertionError(
                f"expecting static_k.size(0) of {bsz * num_heads} and static_k.size(2) of "
                f"{head_dim}, but got {static_k.shape[0]} and {static_k.shape[2]}"
            )
        k = static_k
    if static_v is None:
        v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        if tuple(static_v.shape[::2]) != (bsz * num_heads, head_dim):
            raise AssertionError(
                f"expecting static_v.size(0) of {bsz * num_heads} and static_v.size(2) of "
                f"{head_dim}, but got {static_v.shape[0]} and {static_v.shape[2]}"
            )
        v = static_v

    if add_zero_attn:
        zeros = flambeau.zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k = flambeau.cat([k, zeros], 1)
        v = flambeau.cat([v, zeros], 1)
        if attn_mask is not None:
            attn_mask = F.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = F.pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]

    # merge the key padding mask into the attention mask
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(
                f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                f"{tuple(key_padding_mask.shape)}"
            )
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm

    if not training:
        dropout_p = 0.0

    if need_weights:
        q_scaled = q * math.sqrt(1.0 / float(head_dim))
        if is_causal and attn_mask is None:
            # PyTorch's own assertion, word for word: with need_weights, a causal mask must be
            # passed as attn_mask (MultiheadAttention builds one when is_causal is set)
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        weights = q_scaled @ k.transpose(-2, -1)
        if attn_mask is not None:
            weights = weights + attn_mask
        weights = F.softmax(weights, -1)
        if dropout_p > 0.0:
            weights = F.dropout(weights, dropout_p, True)
        out = weights @ v  # (N*heads, L, head_dim)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = F.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.ndim == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = F.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not is_batched:
        out = out.squeeze(1)
    return out, None
