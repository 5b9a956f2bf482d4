"""flambeau.optim.lr_scheduler: learning-rate (and momentum) sequences against PyTorch's.

Every sequence below was produced by PyTorch 2.13 with the same construction: an SGD (or Adam)
optimizer with two param groups (lr 0.1 and 0.02), ``optimizer.step()`` then
``scheduler.step()`` 16 times; entry 0 is the learning rate right after construction.
"""
from __future__ import annotations

import warnings

import pytest

import flambeau
from flambeau import optim
from flambeau.optim import lr_scheduler as L

N = 16


def _optimizer(cls=optim.SGD, **kw):
    w1 = flambeau.zeros(2, requires_grad=True)
    w2 = flambeau.zeros(2, requires_grad=True)
    return cls([{"params": [w1]}, {"params": [w2], "lr": 0.02}], lr=0.1, **kw)


def _lambda(e):
    return 0.95 ** e


def _every_other(e):
    return 0.9 if e % 2 else 1.0


BUILD = {
    "StepLR": lambda o: L.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda o: L.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda o: L.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda o: L.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    "LambdaLR": lambda o: L.LambdaLR(o, _lambda),
    "MultiplicativeLR": lambda o: L.MultiplicativeLR(o, _every_other),
    "LinearLR": lambda o: L.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=6),
    "ConstantLR": lambda o: L.ConstantLR(o, factor=0.5, total_iters=4),
    "PolynomialLR": lambda o: L.PolynomialLR(o, total_iters=8, power=2.0),
    "CosineAnnealingWarmRestarts":
        lambda o: L.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2, eta_min=0.001),
    "SequentialLR": lambda o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=3), L.ExponentialLR(o, gamma=0.8)],
        milestones=[4]),
    "ChainedScheduler": lambda o: L.ChainedScheduler(
        [L.ConstantLR(o, factor=0.5, total_iters=3), L.ExponentialLR(o, gamma=0.9)]),
    "CyclicLR": lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                     step_size_down=2, mode="triangular2"),
    "CyclicLR_exp": lambda o: L.CyclicLR(o, base_lr=[0.01, 0.001], max_lr=0.1, step_size_up=4,
                                         mode="exp_range", gamma=0.9),
    "OneCycleLR": lambda o: L.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=N + 1),
}

SCHED_REF = {
    'StepLR': [[0.1, 0.02], [0.1, 0.02], [0.1, 0.02], [0.05, 0.01], [0.05, 0.01], [0.05, 0.01], [0.025, 0.005], [0.025, 0.005], [0.025, 0.005], [0.0125, 0.0025], [0.0125, 0.0025], [0.0125, 0.0025], [0.00625, 0.00125], [0.00625, 0.00125], [0.00625, 0.00125], [0.003125, 0.000625], [0.003125, 0.000625]],
    'MultiStepLR': [[0.1, 0.02], [0.1, 0.02], [0.03, 0.006], [0.03, 0.006], [0.03, 0.006], [0.0027, 0.00054], [0.0027, 0.00054], [0.0027, 0.00054], [0.0027, 0.00054], [0.00081, 0.000162], [0.00081, 0.000162], [0.00081, 0.000162], [0.00081, 0.000162], [0.00081, 0.000162], [0.00081, 0.000162], [0.00081, 0.000162], [0.00081, 0.000162]],
    'ExponentialLR': [[0.1, 0.02], [0.09, 0.018], [0.081, 0.0162], [0.0729, 0.01458], [0.06561, 0.013122], [0.059049, 0.0118098], [0.0531441, 0.01062882], [0.04782969, 0.009565938], [0.043046721, 0.0086093442], [0.0387420489, 0.00774840978], [0.03486784401, 0.006973568802], [0.031381059609, 0.0062762119218], [0.0282429536481, 0.00564859072962], [0.02541865828329, 0.005083731656658], [0.022876792454961, 0.0045753584909922], [0.0205891132094649, 0.00411782264189298], [0.0185302018885184, 0.00370604037770369]],
    'CosineAnnealingLR': [[0.1, 0.02], [0.0955435990556089, 0.0195048443395121], [0.083057041083643, 0.0181174490092937], [0.0650134420280341, 0.0161126046697816], [0.0449865579719659, 0.0138873953302184], [0.026942958916357, 0.0118825509907063], [0.0144564009443911, 0.0104951556604879], [0.01, 0.01], [0.0144564009443911, 0.0104951556604879], [0.026942958916357, 0.0118825509907063], [0.0449865579719659, 0.0138873953302184], [0.0650134420280341, 0.0161126046697816], [0.083057041083643, 0.0181174490092937], [0.0955435990556089, 0.0195048443395121], [0.1, 0.02], [0.0955435990556089, 0.0195048443395121], [0.083057041083643, 0.0181174490092937]],
    'LambdaLR': [[0.1, 0.02], [0.095, 0.019], [0.09025, 0.01805], [0.0857375, 0.0171475], [0.081450625, 0.016290125], [0.07737809375, 0.01547561875], [0.0735091890625, 0.0147018378125], [0.069833729609375, 0.013966745921875], [0.0663420431289062, 0.0132684086257812], [0.0630249409724609, 0.0126049881944922], [0.0598736939238379, 0.0119747387847676], [0.056880009227646, 0.0113760018455292], [0.0540360087662637, 0.0108072017532527], [0.0513342083279505, 0.0102668416655901], [0.048767497911553, 0.00975349958231059], [0.0463291230159753, 0.00926582460319506], [0.0440126668651765, 0.00880253337303531]],
    'MultiplicativeLR': [[0.1, 0.02], [0.09, 0.018], [0.09, 0.018], [0.081, 0.0162], [0.081, 0.0162], [0.0729, 0.01458], [0.0729, 0.01458], [0.06561, 0.013122], [0.06561, 0.013122], [0.059049, 0.0118098], [0.059049, 0.0118098], [0.0531441, 0.01062882], [0.0531441, 0.01062882], [0.04782969, 0.009565938], [0.04782969, 0.009565938], [0.043046721, 0.0086093442], [0.043046721, 0.0086093442]],
    'LinearLR': [[0.025, 0.005], [0.0358333333333333, 0.00716666666666667], [0.0466666666666667, 0.00933333333333333], [0.0575, 0.0115], [0.0683333333333333, 0.0136666666666667], [0.0791666666666667, 0.0158333333333333], [0.09, 0.018], [0.09, 0.018], [0.09, 0.018], [0.09, 0.018], [0.09, 0.018], [0.09, 0.018], [0.09, 0.018], [0.09, 0.018], [0.09, 0.018], [0.09, 0.018], [0.09, 0.018]],
    'ConstantLR': [[0.05, 0.01], [0.05, 0.01], [0.05, 0.01], [0.05, 0.01], [0.1, 0.02], [0.1, 0.02], [0.1, 0.02], [0.1, 0.02], [0.1, 0.02], [0.1, 0.02], [0.1, 0.02], [0.1, 0.02], [0.1, 0.02], [0.1, 0.02], [0.1, 0.02], [0.1, 0.02], [0.1, 0.02]],
    'PolynomialLR': [[0.1, 0.02], [0.0765625, 0.0153125], [0.05625, 0.01125], [0.0390625, 0.0078125], [0.025, 0.005], [0.0140625, 0.0028125], [0.00625, 0.00125], [0.0015625, 0.0003125], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0]],
    'CosineAnnealingWarmRestarts': [[0.1, 0.02], [0.0855017856687341, 0.0172175144212722], [0.0505, 0.0105], [0.0154982143312659, 0.0037824855787278], [0.1, 0.02], [0.0962320368593087, 0.0192768555588572], [0.0855017856687341, 0.0172175144212722], [0.069442829902072, 0.0141354926074684], [0.0505, 0.0105], [0.0315571700979281, 0.00686450739253165], [0.0154982143312659, 0.0037824855787278], [0.00476796314069131, 0.00172314444114278], [0.1, 0.02], [0.0990488713799599, 0.0198174601638307], [0.0962320368593087, 0.0192768555588572], [0.091657745808976, 0.0183989613168742], [0.0855017856687341, 0.0172175144212722]],
    'SequentialLR': [[0.01, 0.002], [0.04, 0.008], [0.07, 0.014], [0.1, 0.02], [0.1, 0.02], [0.08, 0.016], [0.064, 0.0128], [0.0512, 0.01024], [0.04096, 0.008192], [0.032768, 0.0065536], [0.0262144, 0.00524288], [0.02097152, 0.004194304], [0.016777216, 0.0033554432], [0.0134217728, 0.00268435456], [0.01073741824, 0.002147483648], [0.00858993459200001, 0.0017179869184], [0.0068719476736, 0.00137438953472]],
    'ChainedScheduler': [[0.05, 0.01], [0.045, 0.009], [0.0405, 0.0081], [0.0729, 0.01458], [0.06561, 0.013122], [0.059049, 0.0118098], [0.0531441, 0.01062882], [0.04782969, 0.009565938], [0.043046721, 0.0086093442], [0.0387420489, 0.00774840978], [0.03486784401, 0.006973568802], [0.031381059609, 0.0062762119218], [0.0282429536481, 0.00564859072962], [0.02541865828329, 0.005083731656658], [0.022876792454961, 0.0045753584909922], [0.0205891132094649, 0.00411782264189298], [0.0185302018885184, 0.00370604037770369]],
    'CyclicLR': [[0.01, 0.01], [0.04, 0.04], [0.07, 0.07], [0.1, 0.1], [0.055, 0.055], [0.01, 0.01], [0.025, 0.025], [0.04, 0.04], [0.055, 0.055], [0.0325, 0.0325], [0.01, 0.01], [0.0175, 0.0175], [0.025, 0.025], [0.0325, 0.0325], [0.02125, 0.02125], [0.01, 0.01], [0.01375, 0.01375]],
    'CyclicLR_momentum': [[0.9, 0.9], [0.866666666666667, 0.866666666666667], [0.833333333333333, 0.833333333333333], [0.8, 0.8], [0.85, 0.85], [0.9, 0.9], [0.883333333333333, 0.883333333333333], [0.866666666666667, 0.866666666666667], [0.85, 0.85], [0.875, 0.875], [0.9, 0.9], [0.891666666666667, 0.891666666666667], [0.883333333333333, 0.883333333333333], [0.875, 0.875], [0.8875, 0.8875], [0.9, 0.9], [0.895833333333333, 0.895833333333333]],
    'CyclicLR_exp': [[0.01, 0.001], [0.03025, 0.023275], [0.04645, 0.041095], [0.0592075, 0.05512825], [0.069049, 0.0659539], [0.049858075, 0.0448438825], [0.033914845, 0.0273063295], [0.02076168025, 0.012837848275], [0.01, 0.001], [0.0187169610025, 0.01058865710275], [0.0256905298045, 0.01825958278495], [0.031182215236075, 0.0243004367596825], [0.03541865828329, 0.028960524111619], [0.0271575943412208, 0.0198733537753428], [0.0202945566047325, 0.0123240122652057], [0.0146325504721296, 0.00609580551934256], [0.01, 0.001]],
    'CyclicLR_exp_momentum': [[0.9, 0.9], [0.8775, 0.8775], [0.8595, 0.8595], [0.845325, 0.845325], [0.83439, 0.83439], [0.85571325, 0.85571325], [0.87342795, 0.87342795], [0.8880425775, 0.8880425775], [0.9, 0.9], [0.890314487775, 0.890314487775], [0.882566077995, 0.882566077995], [0.87646420529325, 0.87646420529325], [0.8717570463519, 0.8717570463519], [0.880936006287533, 0.880936006287533], [0.888561603772519, 0.888561603772519], [0.894852721697634, 0.894852721697634], [0.9, 0.9]],
    'OneCycleLR': [[0.04, 0.02], [0.174149635071622, 0.0870748175358111], [0.501614687828783, 0.250807343914392], [0.839356336079471, 0.419678168039736], [0.998591584568195, 0.499295792284098], [0.985952953153486, 0.492976476576743], [0.938407707390805, 0.469203853695403], [0.86048453108272, 0.43024226554136], [0.757582863145874, 0.378791431572937], [0.636832947710061, 0.318416473855031], [0.506601766506208, 0.253300883253104], [0.375913275451772, 0.187956637725886], [0.253823118297295, 0.126911559148647], [0.148791144565242, 0.0743955722826209], [0.0680952111568577, 0.0340476055784289], [0.017326886382158, 0.00866344319107899], [4e-06, 2e-06]],
    'OneCycleLR_momentum': [[0.95, 0.95], [0.936026079680039, 0.936026079680039], [0.901915136684502, 0.901915136684502], [0.866733714991722, 0.866733714991722], [0.850146709940813, 0.850146709940813], [0.851404710303493, 0.851404710303493], [0.856159253897935, 0.856159253897935], [0.863951602698139, 0.863951602698139], [0.874241810652655, 0.874241810652655], [0.886316850496396, 0.886316850496396], [0.899340020709462, 0.899340020709462], [0.912408922090511, 0.912408922090511], [0.924617986642217, 0.924617986642217], [0.93512122602838, 0.93512122602838], [0.943190851647721, 0.943190851647721], [0.948267704432602, 0.948267704432602], [0.95, 0.95]],
    'OneCycleLR_3phase_adam': [[0.02, 0.02], [0.167692307692308, 0.167692307692308], [0.315384615384615, 0.315384615384615], [0.463076923076923, 0.463076923076923], [0.389230769230769, 0.389230769230769], [0.241538461538462, 0.241538461538462], [0.0938461538461539, 0.0938461538461539], [0.0189474736842105, 0.0189474736842105], [0.0168424210526316, 0.0168424210526316], [0.0147373684210526, 0.0147373684210526], [0.0126323157894737, 0.0126323157894737], [0.0105272631578947, 0.0105272631578947], [0.00842221052631579, 0.00842221052631579], [0.00631715789473684, 0.00631715789473684], [0.00421210526315789, 0.00421210526315789], [0.00210705263157895, 0.00210705263157895], [1.99999999999853e-06, 1.99999999999853e-06]],
    'OneCycleLR_3phase_adam_beta1': [[0.95, 0.95], [0.919230769230769, 0.919230769230769], [0.888461538461538, 0.888461538461538], [0.857692307692308, 0.857692307692308], [0.873076923076923, 0.873076923076923], [0.903846153846154, 0.903846153846154], [0.934615384615385, 0.934615384615385], [0.95, 0.95], [0.95, 0.95], [0.95, 0.95], [0.95, 0.95], [0.95, 0.95], [0.95, 0.95], [0.95, 0.95], [0.95, 0.95], [0.95, 0.95], [0.95, 0.95]],
}

PLATEAU_METRICS = [10, 9, 9.5, 9.2, 9.1, 9.05, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7.95, 7.99, 8, 8, 8]
PLATEAU = [
    ({"mode": "min", "factor": 0.5, "patience": 2, "threshold": 0.01, "cooldown": 1,
      "min_lr": 0.01}, 1.0,
     [[0.1, 0.02], [0.1, 0.02], [0.1, 0.02], [0.1, 0.02], [0.05, 0.01], [0.05, 0.01], [0.05, 0.01], [0.05, 0.01], [0.05, 0.01], [0.025, 0.01], [0.025, 0.01], [0.025, 0.01], [0.025, 0.01], [0.0125, 0.01], [0.0125, 0.01], [0.0125, 0.01], [0.0125, 0.01], [0.01, 0.01], [0.01, 0.01], [0.01, 0.01]]),
    ({"mode": "max", "factor": 0.5, "patience": 1, "threshold": 0.5, "threshold_mode": "abs",
      "min_lr": [0.02, 0.0]}, -1.0,
     [[0.1, 0.02], [0.1, 0.02], [0.1, 0.02], [0.05, 0.01], [0.05, 0.01], [0.025, 0.005], [0.025, 0.005], [0.025, 0.005], [0.02, 0.0025], [0.02, 0.0025], [0.02, 0.00125], [0.02, 0.00125], [0.02, 0.000625], [0.02, 0.000625], [0.02, 0.0003125], [0.02, 0.0003125], [0.02, 0.00015625], [0.02, 0.00015625], [0.02, 7.8125e-05], [0.02, 7.8125e-05]]),
]


def _run(sched, opt, steps=N, key="lr"):
    values = [[g[key] if key != "beta1" else g["betas"][0] for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        sched.step()
        values.append([g[key] if key != "beta1" else g["betas"][0] for g in opt.param_groups])
    return values


def _assert_seq(got, expected, what):
    assert len(got) == len(expected), what
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g == pytest.approx(e, rel=1e-13, abs=1e-15), f"{what}: step {i}: {g} != {e}"


@pytest.mark.parametrize("name", sorted(BUILD))
def test_sequence_matches_pytorch(name):
    opt = _optimizer(momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the right call order warns about nothing
        sched = BUILD[name](opt)
        lrs = []
        momenta = [[g["momentum"] for g in opt.param_groups]]
        lrs.append(list(sched.get_last_lr()))
        for _ in range(N):
            opt.step()
            sched.step()
            lrs.append(list(sched.get_last_lr()))
            momenta.append([g["momentum"] for g in opt.param_groups])
    _assert_seq(lrs, SCHED_REF[name], name)
    assert [[g["lr"] for g in opt.param_groups]] == [lrs[-1]]
    if name + "_momentum" in SCHED_REF:
        _assert_seq(momenta, SCHED_REF[name + "_momentum"], name + " momentum")


def test_one_cycle_three_phase_linear_cycles_adams_beta1():
    opt = _optimizer(optim.Adam)
    sched = L.OneCycleLR(opt, max_lr=0.5, total_steps=N + 1, three_phase=True,
                         anneal_strategy="linear", pct_start=0.25)
    _assert_seq(_run(sched, opt), SCHED_REF["OneCycleLR_3phase_adam"], "lr")
    opt = _optimizer(optim.Adam)
    sched = L.OneCycleLR(opt, max_lr=0.5, total_steps=N + 1, three_phase=True,
                         anneal_strategy="linear", pct_start=0.25)
    _assert_seq(_run(sched, opt, key="beta1"), SCHED_REF["OneCycleLR_3phase_adam_beta1"], "beta1")
    assert opt.param_groups[0]["betas"][1] == 0.999
    opt.step()
    sched.step()  # step 17 of total_steps=17 is the last one
    with pytest.raises(ValueError, match="Tried to step 18 times"):
        sched.step()


@pytest.mark.parametrize("kw, sign, expected", PLATEAU)
def test_reduce_lr_on_plateau_matches_pytorch(kw, sign, expected):
    opt = _optimizer()
    sched = L.ReduceLROnPlateau(opt, **kw)
    got = []
    for m in PLATEAU_METRICS:
        opt.step()
        sched.step(flambeau.tensor(sign * m))  # a 0-d tensor metric works like a float
        got.append(list(sched.get_last_lr()))
    _assert_seq(got, expected, str(kw))


def test_initial_lr_and_base_lrs():
    opt = _optimizer()
    sched = L.ExponentialLR(opt, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.02]
    assert sched.base_lrs == [0.1, 0.02] and sched.last_epoch == 0
    opt.step()
    sched.step()
    assert sched.last_epoch == 1 and sched.get_last_lr() == [0.05, 0.01]
    # resuming needs initial_lr, which a fresh optimizer lacks
    with pytest.raises(KeyError, match="initial_lr"):
        L.StepLR(_optimizer(), step_size=2, last_epoch=3)
    resumed = L.StepLR(opt, step_size=2, gamma=0.1, last_epoch=3)
    assert resumed.last_epoch == 4 and resumed.get_last_lr() == pytest.approx([0.005, 0.001])


def _roundtrip(build, steps_before=5, steps_after=6, metric=None):
    opt = _optimizer(momentum=0.9)
    sched = build(opt)
    for i in range(steps_before):
        opt.step()
        sched.step(*([metric(i)] if metric else []))
    sd_sched, sd_opt = sched.state_dict(), opt.state_dict()
    assert "optimizer" not in sd_sched
    opt2 = _optimizer(momentum=0.9)
    sched2 = build(opt2)
    opt2.load_state_dict(sd_opt)
    sched2.load_state_dict(sd_sched)
    for i in range(steps_before, steps_before + steps_after):
        for o, s in ((opt, sched), (opt2, sched2)):
            o.step()
            s.step(*([metric(i)] if metric else []))
        assert sched2.get_last_lr() == sched.get_last_lr(), i
        assert [g["momentum"] for g in opt2.param_groups] == \
            [g["momentum"] for g in opt.param_groups]


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "LambdaLR", "SequentialLR",
                                  "ChainedScheduler", "OneCycleLR", "CyclicLR",
                                  "CosineAnnealingWarmRestarts"])
def test_state_dict_round_trip(name):
    _roundtrip(BUILD[name])


def test_reduce_lr_on_plateau_state_dict_round_trip():
    _roundtrip(lambda o: L.ReduceLROnPlateau(o, patience=1, factor=0.5),
               metric=lambda i: [5, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3][i])


def test_lambda_state_dict_keeps_callable_objects_state():
    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, e):
            return min(1.0, (e + 1) / self.n)

    opt = _optimizer()
    sd = L.LambdaLR(opt, [Warmup(4), _lambda]).state_dict()
    assert sd["lr_lambdas"] == [{"n": 4}, None]
    fresh = L.LambdaLR(_optimizer(), [Warmup(10), _lambda])
    fresh.load_state_dict(sd)
    assert fresh.lr_lambdas[0].n == 4


def test_call_order_and_get_lr_warnings():
    opt = _optimizer()
    sched = L.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_step_with_an_epoch_uses_the_closed_form():
    opt = _optimizer()
    sched = L.StepLR(opt, step_size=3, gamma=0.5)
    opt.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(7)
    assert sched.get_last_lr() == [0.1 * 0.25, 0.02 * 0.25]


def test_cosine_warm_restarts_fractional_epochs():
    opt = _optimizer()
    sched = L.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
    opt.step()
    sched.step(5.0)  # 5 = 4 + 1: the second cycle (length 8), one epoch in
    assert sched.T_i == 8 and sched.T_cur == 1
    assert sched.get_last_lr()[0] == pytest.approx(0.1 * (1 + 0.9238795325112867) / 2)
    with pytest.raises(ValueError, match="Expected non-negative epoch"):
        sched.step(-1)


BAD = [
    (lambda o: L.StepLR(object(), 1), TypeError, "object is not an Optimizer"),
    (lambda o: L.LinearLR(o, start_factor=0), ValueError,
     "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."),
    (lambda o: L.LinearLR(o, end_factor=1.5), ValueError,
     "Ending multiplicative factor expected to be between 0 and 1."),
    (lambda o: L.ConstantLR(o, factor=2), ValueError,
     "Constant multiplicative factor expected to be between 0 and 1."),
    (lambda o: L.LambdaLR(o, [_lambda]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda o: L.MultiplicativeLR(o, 0.5), TypeError, "lr_lambda should be a function, but got float"),
    (lambda o: L.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0."),
    (lambda o: L.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown!"),
    (lambda o: L.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold mode x is unknown!"),
    (lambda o: L.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
    (lambda o: L.OneCycleLR(o, max_lr=1.0), ValueError,
     "You must define either total_steps OR (epochs AND steps_per_epoch)"),
    (lambda o: L.OneCycleLR(o, max_lr=1.0, total_steps=0), ValueError,
     "Expected positive integer total_steps, but got 0"),
    (lambda o: L.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1.5), ValueError,
     "Expected float between 0 and 1 pct_start, but got 1.5"),
    (lambda o: L.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
    (lambda o: L.OneCycleLR(o, max_lr=[1.0], total_steps=10), ValueError,
     "max_lr must have the same length as optimizer.param_groups. max_lr has 1 values, "
     "param_groups has 2."),
    (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=0), ValueError,
     "Expected positive integer T_0, but got 0"),
    (lambda o: L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], milestones=[]), ValueError,
     "Sequential Schedulers expects number of schedulers provided to be one more than the number "
     "of milestone points, but got number of schedulers 2 and the number of milestones to be "
     "equal to 0"),
    (lambda o: L.SequentialLR(o, [L.ReduceLROnPlateau(o)], milestones=[]), ValueError,
     "SequentialLR does not support `ReduceLROnPlateau` scheduler"),
    (lambda o: L.ChainedScheduler([]), ValueError,
     "ChainedScheduler expects at least one scheduler to be chained, but got no scheduler."),
]


@pytest.mark.parametrize("build, exc, message", BAD)
def test_invalid_arguments(build, exc, message):
    with pytest.raises(exc) as info:
        build(_optimizer())
    assert str(info.value).startswith(message)


def test_cycle_momentum_needs_a_momentum():
    w = flambeau.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        L.OneCycleLR(optim.Adagrad([w]), max_lr=1.0, total_steps=10)
    sched = L.OneCycleLR(optim.Adagrad([w]), max_lr=1.0, total_steps=10, cycle_momentum=False)
    assert sched.get_last_lr() == pytest.approx([0.04])
