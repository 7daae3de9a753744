"""The training tooling's contracts: the hold-out split and the int8 weight quantizer."""
import json
import os
import shutil

import numpy as np
import pytest
import torch

from scripts.train.command import reproduce
from scripts.train.data import CLASSES, HOLDOUT_PER_CLASS, split_names
from scripts.train.quantize import quantize_int8, quantize_weights
from scripts.train.recipes import DEFAULT_DISTILL, RECIPES, stage_recipe
from scripts.train.release import next_version, ort_web_logits
from scripts.train.views import apply_view, mean_over_views, parse_view, with_views
from scripts.train.views_probe import correct_by_set, logits_per_view, split_check
from scripts.train.soup import average
from scripts.train.train import cutmix, distilled_loss, load_teacher, mixed_loss, model_input, normalize, upscale
from scripts.zoo.export import export_onnx
from scripts.zoo.registry import create_model


def test_holdout_is_the_last_500_sorted_files_of_each_class():
    names = [f"train/{c}/{i:04d}.jpg" for c in CLASSES for i in reversed(range(5000))]
    train, hold = split_names(names)
    assert len(hold) == HOLDOUT_PER_CLASS * 10 and len(train) == 4500 * 10
    assert not {n for n, _ in train} & {n for n, _ in hold}
    assert hold[0] == ("train/airplane/4500.jpg", 0) and hold[-1] == ("train/truck/4999.jpg", 9)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node + onnxruntime-web")
def test_cutmix_pastes_one_box_and_weights_labels_by_its_area():
    gen = torch.Generator().manual_seed(3)
    x = torch.arange(8, dtype=torch.float32).view(8, 1, 1, 1).expand(8, 3, 32, 32).contiguous()
    y = torch.arange(8)
    for _ in range(20):
        mixed, y_own, y_other, lam = cutmix(x, y, gen)
        for i in range(8):
            kept = (mixed[i] == i).float().mean().item()
            pasted_from = int(y_other[i])
            if pasted_from != i:  # the box came from another image: its area is 1 - lam
                assert kept == pytest.approx(lam, abs=1e-6)
                assert set(mixed[i].unique().tolist()) <= {float(i), float(pasted_from)}
        assert torch.equal(y_own, y)
    logits = torch.randn(8, 10)
    assert mixed_loss(logits, y, y, 1.0) == pytest.approx(float(torch.nn.functional.cross_entropy(logits, y, label_smoothing=0.1)))
    blended = mixed_loss(logits, y, y.flip(0), 0.25)
    parts = [float(torch.nn.functional.cross_entropy(logits, t, label_smoothing=0.1)) for t in (y, y.flip(0))]
    assert float(blended) == pytest.approx(0.25 * parts[0] + 0.75 * parts[1], rel=1e-6)


def test_distillation_targets_the_teachers_top1_beside_the_labels():
    logits, teacher = torch.randn(8, 10), torch.randn(8, 10)
    y = torch.arange(8)
    label_loss = mixed_loss(logits, y, y, 1.0)
    ce = lambda t: float(torch.nn.functional.cross_entropy(logits, t, label_smoothing=0.1))
    assert float(distilled_loss(logits, label_loss, teacher, 0.5)) == pytest.approx(0.5 * ce(y) + 0.5 * ce(teacher.argmax(1)), rel=1e-6)
    assert float(distilled_loss(logits, label_loss, teacher, 0.0)) == pytest.approx(ce(y), rel=1e-6)


def parity_images(model_id: str):
    """The hold-out JPEGs of a shipped model's parity fixtures, [N,32,32,3] uint8, and its released logits."""
    import io
    import tarfile

    from PIL import Image

    from scripts.train.data import TAR
    from scripts.train.release import MODELS

    if not os.path.exists(TAR):
        pytest.skip("needs ../shared/datasets/cifar10-train.tar")
    with open(os.path.join(MODELS, model_id, "parity.json")) as f:
        parity = json.load(f)
    with tarfile.open(TAR) as tf:
        x = np.stack([np.asarray(Image.open(io.BytesIO(tf.extractfile(n).read())).convert("RGB")) for n in parity["tar_member"]])
    return x, np.array(parity["logits"])


@pytest.mark.parametrize("teacher_id", sorted({r["teacher"] for r in RECIPES.values() if r.get("teacher")}))
def test_a_recipes_teacher_is_its_shipped_release(teacher_id):
    x, released = parity_images(teacher_id)
    logits, name = load_teacher(teacher_id, torch.device("cpu"))
    assert name.startswith(teacher_id + " ")
    assert np.abs(logits(normalize(torch.from_numpy(x))).numpy() - released).max() < 1e-4


def test_new_weights_bump_the_minor_version_and_the_same_weights_keep_it():
    shipped = {"version": "1.1.0", "onnx": {"sha256": "a" * 64}}
    assert next_version(None, "b" * 64) == "1.0.0"
    assert next_version(shipped, "b" * 64) == "1.2.0"
    assert next_version(shipped, "a" * 64) == "1.1.0"


def test_views_follow_each_image_and_average_back_to_one_row_per_image():
    """The order the Worker batches test-time views in (src/preprocess/views.ts): image i at slot
    i*k, its mirror at i*k+1; the mean over them is one row per image."""
    x = np.arange(2 * 3 * 2 * 4, dtype=np.float32).reshape(2, 3, 2, 4)
    batch = with_views(x, ["hflip"])
    assert batch.shape == (4, 3, 2, 4)
    np.testing.assert_array_equal(batch[0], x[0])
    np.testing.assert_array_equal(batch[1], x[0][..., ::-1])
    np.testing.assert_array_equal(batch[3], x[1][..., ::-1])
    np.testing.assert_array_equal(with_views(x, []), x)
    out = np.array([[1.0, 2.0], [3.0, 6.0], [0.0, 0.0], [4.0, 4.0]], dtype=np.float32)
    np.testing.assert_array_equal(mean_over_views(out, 2), [[2.0, 4.0], [2.0, 2.0]])


def test_shifted_views_move_the_content_with_reflected_edges_as_the_training_crops_did():
    """shift(dy,dx) is the 32x32 window of train.augment's reflect-padded image at (4+dy, 4+dx), so
    a shifted view is exactly one of the crops training drew; hflip+ mirrors first."""
    x = torch.rand(2, 3, 32, 32)
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4), mode="reflect")
    for dy, dx in ((1, 1), (-1, 1), (4, -4), (0, 2)):
        want = padded[..., 4 + dy:36 + dy, 4 + dx:36 + dx].numpy()
        np.testing.assert_array_equal(apply_view(x.numpy(), f"shift({dy},{dx})"), want)
    mirrored = torch.nn.functional.pad(x.flip(-1), (4, 4, 4, 4), mode="reflect")[..., 5:37, 3:35].numpy()
    np.testing.assert_array_equal(apply_view(x.numpy(), "hflip+shift(1,-1)"), mirrored)
    assert with_views(x.numpy(), ["hflip", "shift(1,1)"]).shape == (6, 3, 32, 32)
    for bad in ("shift(5,0)", "shift(0,0)", "vflip", "shift(1, 1)"):
        with pytest.raises(ValueError):
            parse_view(bad)


def test_the_probe_runs_each_view_once_and_averages_as_the_worker_batches_them():
    """Views run one at a time in the probe; averaging their logits must equal the batched path
    (with_views + mean_over_views) that release.py and the Worker use."""
    torch.manual_seed(0)
    model = create_model("vit_cifar").eval()
    x = np.random.default_rng(0).standard_normal((6, 3, 32, 32)).astype(np.float32)
    views = ["hflip", "shift(1,1)", "hflip+shift(-2,2)"]
    per_view = logits_per_view(model, torch.contiguous_format, x, {"", *views}, chunk=4)
    with torch.no_grad():
        batched = mean_over_views(model(torch.from_numpy(with_views(x, views))).numpy(), 1 + len(views))
    y = batched.argmax(1)
    np.testing.assert_allclose(np.mean([per_view[v] for v in ["", *views]], axis=0), batched, atol=1e-5)
    assert correct_by_set(per_view, y, {"served": views})["served"].all()


def test_split_check_picks_on_one_half_and_measures_on_the_other():
    """Set a is right on every even image and b on every odd one: each half picks its own winner,
    which then scores 0 on the other half; a tie goes to the first (cheapest) set."""
    even = np.arange(8) % 2 == 0
    out = split_check({"a": even, "b": ~even})
    assert out["even->odd"] == ("a", 0.0) and out["odd->even"] == ("b", 0.0) and out["cross-checked"] == 0.0
    same = np.array([True, False] * 4)
    assert split_check({"cheap": same, "dear": same.copy()})["even->odd"] == ("cheap", 0.0)
    assert split_check({"a": np.ones(8, bool)})["cross-checked"] == 1.0


def test_int8_weights_are_smaller_and_close_to_fp32(tmp_path):
    torch.manual_seed(0)
    model = create_model("convmixer_cifar").eval()
    fp32, int8 = str(tmp_path / "fp32.onnx"), str(tmp_path / "int8.onnx")
    export_onnx(model, fp32, 32)
    rec = quantize_weights(fp32, int8)
    assert rec["tensors"] >= 8
    assert os.path.getsize(int8) < 0.4 * os.path.getsize(fp32)
    x = np.random.default_rng(0).standard_normal((4, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    a, b = ort_web_logits(fp32, x), ort_web_logits(int8, x)
    assert np.max(np.abs(a - ref)) < 1e-4
    err = np.max(np.abs(b - a)) / np.max(np.abs(a))
    assert 0 < err < 0.05, err  # rounded, so not identical, but close


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node + onnxruntime-web")
def test_shipped_int8_scheme_runs_matmuls_in_integer_and_stays_close(tmp_path):
    import onnx
    torch.manual_seed(0)
    model = create_model("vit_cifar").eval()
    fp32, int8 = str(tmp_path / "fp32.onnx"), str(tmp_path / "int8.onnx")
    export_onnx(model, fp32, 32)
    rec = quantize_int8(fp32, int8)
    g = onnx.load(int8).graph
    ops = [n.op_type for n in g.node]
    assert rec["matmuls_integer"] >= 6 * 4 and ops.count("MatMulInteger") == rec["matmuls_integer"]
    weights = {t.name for t in g.initializer}
    # Only activation x activation MatMuls (attention scores, attention x values) stay float.
    assert not [n.name for n in g.node if n.op_type == "MatMul" and n.input[1] in weights]
    assert os.path.getsize(int8) < 0.4 * os.path.getsize(fp32)
    x = np.random.default_rng(0).standard_normal((4, 3, 32, 32)).astype(np.float32)
    a, b = ort_web_logits(fp32, x), ort_web_logits(int8, x)
    err = np.max(np.abs(b - a)) / np.max(np.abs(a))
    assert 0 < err < 0.1, err


@pytest.mark.parametrize("model_id", sorted(RECIPES))
def test_restore_rebuilds_every_shipped_family_exactly(model_id):
    """train.restore: the shipped ONNX (named initializers, Linear weights folded into MatMul
    constants, Swin's position tables folded into attention biases) -> a strict state_dict whose
    PyTorch logits on the parity fixtures' hold-out JPEGs are the released ones (what train --resume
    starts from)."""
    from scripts.train.restore import shipped_manifest, shipped_model

    x, released = parity_images(model_id)
    model = shipped_model(model_id).eval()  # state_dict_from_onnx, loaded strictly
    with torch.no_grad():
        logits = model(model_input(x, shipped_manifest(model_id)["preprocess"]["size"])).numpy()
    assert np.abs(logits - released).max() < 1e-4


def test_restore_refuses_a_graph_missing_a_weight(tmp_path):
    import onnx

    from scripts.train.restore import state_dict_from_onnx
    from scripts.train.release import MODELS

    m = onnx.load(os.path.join(MODELS, "convmixer-cifar10", "model.onnx"))
    victim = next(i for i in m.graph.initializer if i.name.endswith(".weight"))
    m.graph.initializer.remove(victim)
    path = str(tmp_path / "broken.onnx")
    onnx.save(m, path)
    with pytest.raises(KeyError, match="no initializer"):
        state_dict_from_onnx(path, create_model("convmixer_cifar"))


def test_a_soup_is_the_weighted_mean_of_two_runs_and_keeps_integer_buffers():
    a = {"w": torch.tensor([0.0, 2.0]), "idx": torch.tensor([1, 2])}
    b = {"w": torch.tensor([4.0, 6.0]), "idx": torch.tensor([7, 9])}
    s = average(a, b)
    assert torch.equal(s["w"], torch.tensor([2.0, 4.0])) and torch.equal(s["idx"], a["idx"])
    assert torch.allclose(average(a, b, 0.25)["w"], torch.tensor([1.0, 3.0]))
    with pytest.raises(ValueError):
        average(a, {"w": b["w"]})


def test_soup_writes_the_averaged_checkpoint_and_a_record_that_says_how_it_was_made(tmp_path, monkeypatch):
    from scripts.train import soup as soup_mod

    model_id = "convmixer-cifar10"
    runs = {}
    for seed, folder in ((1, tmp_path / model_id), (2, tmp_path / "other")):
        torch.manual_seed(seed)
        folder.mkdir()
        runs[folder.name] = create_model(RECIPES[model_id]["model"]).state_dict()
        torch.save(runs[folder.name], folder / "checkpoint.pth")
        (folder / "record.json").write_text(json.dumps({"metrics": {"top1": 0.1, "single_view": {"top1": 0.1}, "measured_by": "release.py"},
                                                        "training": {"epochs": seed}}))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (24, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 24).astype(np.int64)
    monkeypatch.setattr(soup_mod, "OUT_ROOT", str(tmp_path))
    monkeypatch.setattr(soup_mod.cifar, "load", lambda: {"x_hold": x, "y_hold": y})

    record = soup_mod.soup(model_id, str(tmp_path / "other"), 0.25)

    written = torch.load(tmp_path / model_id / "checkpoint.pth")
    mine, other = runs[model_id], runs["other"]
    for k, v in written.items():
        expected = 0.75 * mine[k].float() + 0.25 * other[k].float() if v.is_floating_point() else mine[k]
        assert torch.allclose(v.float(), expected.float(), atol=1e-6), k
    model = create_model(RECIPES[model_id]["model"])
    model.load_state_dict(written)
    with torch.no_grad():
        top1 = float((model.eval()(normalize(torch.from_numpy(x))).argmax(1).numpy() == y).mean())
    assert record["metrics"]["top1"] == pytest.approx(top1)
    assert record["metrics"]["measured_by"] == "PyTorch eager (scripts/train/soup.py)"
    assert "single_view" not in record["metrics"]  # the other run's figures are not the soup's
    assert record["training"]["epochs"] == 2  # the other run's (longer) history
    assert record["training"]["soup"]["weight"] == 0.25 and "--weight 0.25" in record["training"]["soup"]["command"]
    assert json.loads((tmp_path / model_id / "record.json").read_text()) == record


def test_reproduce_command_spells_flags_and_leaves_out_defaults():
    assert reproduce("train", id="vit-cifar10", budget_min=60, resume=True, lr=None) == \
        "/usr/bin/python3 -m scripts.train.train --id vit-cifar10 --budget-min 60 --resume"
    assert reproduce("soup", id="x", with_="/r/b", weight=0.25, resume=False) == \
        "/usr/bin/python3 -m scripts.train.soup --id x --with /r/b --weight 0.25"


@pytest.fixture
def tiny_trainer(tmp_path, monkeypatch):
    """scripts.train.train on 256 random training images (two batches) and 20 hold-out ones, writing under tmp_path."""
    from scripts.train import train as train_mod

    rng = np.random.default_rng(0)
    data = {"x_train": rng.integers(0, 256, (256, 32, 32, 3), dtype=np.uint8), "y_train": rng.integers(0, 10, 256).astype(np.int64),
            "x_hold": rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8), "y_hold": rng.integers(0, 10, 20).astype(np.int64)}
    monkeypatch.setattr(train_mod, "OUT_ROOT", str(tmp_path))
    monkeypatch.setattr(train_mod.cifar, "load", lambda: data)
    return train_mod


def test_a_teacher_given_on_the_command_line_distils_that_run_and_is_recorded(tiny_trainer, monkeypatch):
    train_mod = tiny_trainer
    calls = []
    real_load = train_mod.load_teacher

    def counting_teacher(teacher_id, device):
        logits, name = real_load(teacher_id, device)
        calls.append(teacher_id)
        return (lambda x: (calls.append("step"), logits(x))[1]), name
    monkeypatch.setattr(train_mod, "load_teacher", counting_teacher)
    assert not RECIPES["swin-cifar10"].get("teacher")  # the override, not the recipe, brings the teacher

    record = train_mod.train("swin-cifar10", budget_min=10, epochs=1, threads=1, seed=0, log=lambda _: None,
                             teacher="convmixer-cifar10")

    assert calls == ["convmixer-cifar10", "step", "step"]  # 256 images / batch 128
    assert "hard-label distillation from convmixer-cifar10" in record["training"]["augmentation"]
    assert "(weight 0.5)" in record["training"]["augmentation"]
    assert record["training"]["command"].endswith("--teacher convmixer-cifar10")
    with pytest.raises(SystemExit):
        train_mod.main(["--id", "swin-cifar10", "--teacher", "swin-cifar10"])


def test_a_cutmix_share_given_on_the_command_line_mixes_that_runs_batches_and_is_recorded(tiny_trainer, monkeypatch):
    train_mod = tiny_trainer
    mixed = []
    real_cutmix = train_mod.cutmix
    monkeypatch.setattr(train_mod, "cutmix", lambda *a: (mixed.append(1), real_cutmix(*a))[1])

    always = train_mod.train("swin-cifar10", budget_min=10, epochs=1, threads=1, seed=0, log=lambda _: None, cutmix_share=1.0)
    assert len(mixed) == 2  # both batches of 128, not the recipe's half
    assert "CutMix (alpha 1) on 100% of batches" in always["training"]["augmentation"]
    assert always["training"]["command"].endswith("--cutmix 1.0")

    mixed.clear()
    never = train_mod.train("swin-cifar10", budget_min=10, epochs=1, threads=1, seed=0, log=lambda _: None, cutmix_share=0.0)
    assert mixed == [] and "CutMix" not in never["training"]["augmentation"]


def test_a_stages_overrides_replace_only_what_they_name():
    assert stage_recipe("swin-cifar10") == RECIPES["swin-cifar10"]
    distilled = stage_recipe("swin-cifar10", lr=5e-4, teacher="convmixer-cifar10")
    assert (distilled["lr"], distilled["teacher"], distilled["distill"]) == (5e-4, "convmixer-cifar10", DEFAULT_DISTILL)
    assert distilled["wd"] == RECIPES["swin-cifar10"]["wd"]
    assert stage_recipe("vit-cifar10", distill=0.25)["distill"] == 0.25
    assert "distill" not in RECIPES["vit-cifar10"] and stage_recipe("vit-cifar10")["distill"] == DEFAULT_DISTILL
    assert stage_recipe("vit-cifar10", cutmix=0.5)["cutmix"] == 0.5 and "cutmix" not in RECIPES["vit-cifar10"]
    assert "distill" not in RECIPES["swin-cifar10"]  # the stage's copy, not the table, changed


def test_training_upscales_as_the_worker_resizes_up_to_its_8_bit_rounding():
    """A family trained at more than 32 px sees its crops upscaled by upscale() (float, after the
    augmentation); the Worker resizes the decoded 32 px image with Pillow's bilinear filter in 8 bits
    (model_input, which src/preprocess/resample.ts reproduces). The two may differ by the rounding
    alone: half a grey level after each of Pillow's two passes, so one grey level over the smallest std."""
    x = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    served = model_input(x, 48)
    trained = upscale(normalize(torch.from_numpy(x)), 48)
    assert served.shape == trained.shape == (4, 3, 48, 48)
    assert float((served - trained).abs().max()) <= 1 / 255 / min(0.247, 0.2435, 0.2616) + 1e-4  # + float32 noise
    assert torch.equal(model_input(x, 32), normalize(torch.from_numpy(x)))  # 32 px: no resize at all


def test_an_input_size_given_on_the_command_line_trains_and_measures_at_that_size(tiny_trainer, monkeypatch):
    """--input-size 48 on ViT: the student sees 48 px batches (the teacher still the 32 px crops it
    was trained on), the checkpoint carries a 12x12 grid of position embeddings, and the record says so."""
    train_mod = tiny_trainer
    seen = {"student": set(), "teacher": set()}
    real_build, real_load = train_mod.build_model, train_mod.load_teacher

    def watched_build(recipe, input_size=None):
        model = real_build(recipe, input_size)
        model.register_forward_pre_hook(lambda _, args: seen["student"].add(tuple(args[0].shape[-2:])))
        return model

    def watched_teacher(teacher_id, device):
        logits, name = real_load(teacher_id, device)
        return (lambda x: (seen["teacher"].add(tuple(x.shape[-2:])), logits(x))[1]), name
    monkeypatch.setattr(train_mod, "build_model", watched_build)
    monkeypatch.setattr(train_mod, "load_teacher", watched_teacher)

    record = train_mod.train("vit-cifar10", budget_min=10, epochs=1, threads=1, seed=0, log=lambda _: None, input_size=48)

    assert seen == {"student": {(48, 48)}, "teacher": {(32, 32)}}
    sd = torch.load(os.path.join(train_mod.OUT_ROOT, "vit-cifar10", "checkpoint.pth"))
    assert sd["pos_embed"].shape == (1, 1 + 12 * 12, 96)
    assert record["input_size"] == 48 and "upscaled to 48 px" in record["training"]["augmentation"]
    assert record["training"]["command"].endswith("--input-size 48")
