"""A bad policy file never crashes the game (issue 18's rows): it is refused at load with a PolicyFileError that
names the file and what was expected, and the game falls back to scripted NPCs, saying why in the HUD and in
the headless summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import agents.policies.onnx_policy as onnx_policy
from agents.observation import OBS_SIZE
from agents.policies.onnx_policy import OnnxPolicy, PolicyFileError, policy_path
from engine.sim.policy import Action, Role


def _write_model(path: Path, graph: onnx.GraphProto) -> Path:
    """`graph` as an ONNX file (opset 17) at `path`."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


def _graph_file(
    path: Path, *, in_shape, in_type=TensorProto.FLOAT, outputs: int = 5, nan: bool = False
) -> Path:
    """A one-layer policy: obs (in_shape) → MatMul → logits (batch, outputs)."""
    width = in_shape[-1]
    weights = np.full(
        (width, outputs), np.nan if nan else 0.01, np.float64 if in_type == TensorProto.DOUBLE else np.float32
    )
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["obs", "w"], ["logits"])],
        "policy",
        [helper.make_tensor_value_info("obs", in_type, in_shape)],
        [helper.make_tensor_value_info("logits", in_type, ["batch", outputs][-len(in_shape) :])],
        [onnx.numpy_helper.from_array(weights, "w")],
    )
    return _write_model(path, graph)


def _bad_files(tmp: Path) -> dict[str, tuple[Path, str, str]]:
    shipped = policy_path(Role.HUNTER).read_bytes()
    (tmp / "zero.onnx").write_bytes(b"")
    (tmp / "random.onnx").write_bytes(np.random.default_rng(0).bytes(4096))
    (tmp / "truncated.onnx").write_bytes(shipped[: len(shipped) // 2])
    return {
        "zero-byte": (tmp / "zero.onnx", "file", "not a readable ONNX model"),
        "random": (tmp / "random.onnx", "file", "not a readable ONNX model"),
        "truncated": (tmp / "truncated.onnx", "file", "not a readable ONNX model"),
        "10 logits": (
            _graph_file(tmp / "ten.onnx", in_shape=["batch", OBS_SIZE], outputs=10),
            "outputs",
            "(batch, 5)",
        ),
        "rank-1 input": (_graph_file(tmp / "rank1.onnx", in_shape=[OBS_SIZE]), "inputs", "float32 input"),
        "float64 input": (
            _graph_file(tmp / "f64.onnx", in_shape=["batch", OBS_SIZE], in_type=TensorProto.DOUBLE),
            "inputs",
            "float32 input",
        ),
        "NaN weights": (
            _graph_file(tmp / "nan.onnx", in_shape=["batch", OBS_SIZE], nan=True),
            "outputs",
            "not finite",
        ),
        "wrong width": (_graph_file(tmp / "wide.onnx", in_shape=["batch", OBS_SIZE + 3]), "inputs", "frames"),
        "a folder": (tmp, "file", "folder"),
    }


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, tuple[Path, str, str]]:
    return _bad_files(tmp_path)


CASES = [
    "zero-byte",
    "random",
    "truncated",
    "10 logits",
    "rank-1 input",
    "float64 input",
    "NaN weights",
    "wrong width",
    "a folder",
]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_policy_file_is_refused_at_load_by_name(bad_files, case: str) -> None:
    path, field, expected = bad_files[case]
    with pytest.raises(PolicyFileError) as err:
        OnnxPolicy(path)
    assert err.value.field == field and expected in str(err.value) and str(path) in str(err.value), str(
        err.value
    )


def test_the_same_rule_guards_the_narrator(bad_files) -> None:
    from agents.narrator.policy import OnnxNarrator

    for case in ("zero-byte", "truncated", "10 logits"):
        with pytest.raises(PolicyFileError):
            OnnxNarrator(bad_files[case][0])


def _use_policy_folder(monkeypatch, folder: Path, source: Path) -> None:
    folder.mkdir()
    for role in onnx_policy.TRAINED_ROLES:
        (folder / f"{role.value}.onnx").write_bytes(source.read_bytes())
    monkeypatch.setattr(onnx_policy, "POLICY_DIR", folder)


@pytest.mark.parametrize("case", ["zero-byte", "10 logits", "float64 input"])
def test_the_game_falls_back_to_scripted_npcs_and_says_why(
    bad_files, case: str, monkeypatch, tmp_path
) -> None:
    from demo_game.content import new_world, npc_policies
    from engine.sim.policy import Action

    _use_policy_folder(monkeypatch, tmp_path / "policies", bad_files[case][0])
    _, problem = npc_policies()
    assert problem is not None and "NPCs use scripted policies" in problem and str(tmp_path) in problem
    world = new_world(7)
    assert world.npcs and not any(isinstance(p, OnnxPolicy) for p in world._policies.values())
    for _ in range(40):  # the NPCs act, scripted, and nothing raises
        world.step(Action.NOOP)


def test_the_headless_summary_and_hud_say_the_npcs_fell_back(bad_files, monkeypatch, tmp_path) -> None:
    from demo_game.autoplay import run_autoplay
    from engine.render.pygame2d.hud import TextBox

    pushed: list[str] = []
    original = TextBox.push
    monkeypatch.setattr(TextBox, "push", lambda self, line: (pushed.append(line), original(self, line))[1])
    monkeypatch.setenv("LUDOFORGE_HOME", str(tmp_path / "home"))
    _use_policy_folder(monkeypatch, tmp_path / "policies", bad_files["truncated"][0])
    summary = run_autoplay(7, 2.0, tmp_path / "out", narrator=False)
    assert summary["npc_policies"] == "scripted" and "not a readable ONNX model" in summary["npc_problems"]
    assert any("NPCs use scripted policies" in line for line in pushed), pushed


def _op_model(path: Path, op: str) -> Path:
    """A small model that uses `op` on the way to (batch, 5) logits: what a hostile file would do."""
    w = onnx.numpy_helper.from_array(np.zeros((OBS_SIZE, 5), np.float32), "w")
    nodes = [helper.make_node("MatMul", ["obs", "w"], ["mm"])]
    if op == "NonZero":  # the logits' width grows with the observation's non-zero count
        nodes.append(helper.make_node("NonZero", ["mm"], ["nz"]))
        nodes.append(helper.make_node("Identity", ["mm"], ["logits"]))
    elif op == "ConstantOfShape":
        shape = onnx.numpy_helper.from_array(np.array([2**15, 2**15], np.int64), "shape")
        nodes.append(helper.make_node("ConstantOfShape", ["shape"], ["big"]))
        nodes.append(helper.make_node("Identity", ["mm"], ["logits"]))
    else:  # Loop with a trip count of 10**12
        body = helper.make_graph(
            [helper.make_node("Identity", ["cond"], ["cond_out"])],
            "body",
            [
                helper.make_tensor_value_info("i", TensorProto.INT64, []),
                helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
            ],
            [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, [])],
        )
        trips = onnx.numpy_helper.from_array(np.array(10**12, np.int64), "trips")
        keep = onnx.numpy_helper.from_array(np.array(True), "keep")
        nodes.append(helper.make_node("Loop", ["trips", "keep"], [], body=body))
        nodes.append(helper.make_node("Identity", ["mm"], ["logits"]))
    inits = [w] + ([shape] if op == "ConstantOfShape" else []) + ([trips, keep] if op == "Loop" else [])
    graph = helper.make_graph(
        nodes,
        "hostile",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", OBS_SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 5])],
        inits,
    )
    return _write_model(path, graph)


@pytest.mark.parametrize("op", ["NonZero", "ConstantOfShape", "Loop"])
def test_a_model_with_ops_no_mlp_uses_is_refused_before_it_runs(tmp_path: Path, op: str) -> None:
    """A 14 KB Loop model would hang the load, a ConstantOfShape one ask for 4 GB, a NonZero one pass the
    zero probe and crash the first NPC decision: each is refused by its op, before onnxruntime runs it."""
    with pytest.raises(PolicyFileError, match=f"op {op} is not one an MLP policy uses"):
        OnnxPolicy(_op_model(tmp_path / f"{op}.onnx", op))


def test_a_narrator_policy_behind_a_link_loop_is_a_policy_file_error(tmp_path: Path) -> None:
    import os

    from agents.narrator.policy import OnnxNarrator

    os.symlink("loop.onnx", tmp_path / "loop.onnx")
    with pytest.raises(PolicyFileError, match="cannot be resolved"):
        OnnxNarrator(tmp_path / "loop.onnx")


def _doubling_model(path: Path, doublings: int) -> Path:
    """Only allowed ops: a (1, 5) constant concatenated with itself `doublings` times, then folded back to
    (batch, 5) logits. A 15 KB file whose tensors reach 2**doublings rows."""
    base = onnx.numpy_helper.from_array(np.zeros((1, 5), np.float32), "c0")
    w = onnx.numpy_helper.from_array(np.zeros((OBS_SIZE, 5), np.float32), "w")
    nodes = [helper.make_node("Concat", [f"c{i}", f"c{i}"], [f"c{i + 1}"], axis=0) for i in range(doublings)]
    nodes.append(helper.make_node("MatMul", ["obs", "w"], ["logits"]))
    graph = helper.make_graph(
        nodes,
        "doubling",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", OBS_SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 5])],
        [base, w],
    )
    return _write_model(path, graph)


def test_a_model_of_allowed_ops_whose_tensors_grow_past_the_bound_is_refused_by_its_shapes(
    tmp_path: Path,
) -> None:
    with pytest.raises(PolicyFileError, match="more than 2,097,152 elements"):
        OnnxPolicy(
            _doubling_model(tmp_path / "bomb.onnx", 24)
        )  # 16 M rows: refused before onnxruntime loads it
    OnnxPolicy(_doubling_model(tmp_path / "small.onnx", 4))  # the same graph, small, loads


def test_logits_that_are_not_finite_in_play_keep_the_npc_still_and_say_why(tmp_path: Path) -> None:
    """1 / (1 - obs): finite on both load probes, infinite where an observation holds an exact 1."""
    w = onnx.numpy_helper.from_array(np.full((OBS_SIZE, 5), 0.01, np.float32), "w")
    one = onnx.numpy_helper.from_array(np.ones((1, OBS_SIZE), np.float32), "one")
    nodes = [
        helper.make_node("Sub", ["one", "obs"], ["d"]),
        helper.make_node("Div", ["one", "d"], ["r"]),
        helper.make_node("MatMul", ["r", "w"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "div",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", OBS_SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 5])],
        [w, one],
    )
    _write_model(tmp_path / "div.onnx", graph)
    from demo_game.content import new_world

    policy = OnnxPolicy(tmp_path / "div.onnx")
    world = new_world(7)
    npc = world.npcs[0]
    assert policy.act(world.observe(npc)) == Action.NOOP and "non-finite logits" in (policy.problem or "")


def _chain_model(path: Path, matmuls: int, relus: int = 0) -> Path:
    """Only allowed ops, every tensor within the bound: an input-dependent (1344, 1344) matrix multiplied by
    itself `matmuls` times (which constant folding cannot remove), or `relus` cheap nodes in a row."""
    n = 2 * OBS_SIZE
    nodes = [
        helper.make_node("MatMul", ["obs", "w"], ["l0"]),
        helper.make_node("Gemm", ["obs", "obs"], ["g"], transA=1),
        helper.make_node("Sub", ["g", "g"], ["z"]),
        helper.make_node("Concat", ["z", "z"], ["zh"], axis=1),
        helper.make_node("Concat", ["zh", "zh"], ["m"], axis=0),
    ]
    prev = "m"
    for j in range(matmuls):
        nodes.append(helper.make_node("MatMul", [prev, "m"], [f"p{j}"]))
        prev = f"p{j}"
    for j in range(relus):
        nodes.append(helper.make_node("Relu", [prev], [f"r{j}"]))
        prev = f"r{j}"
    nodes += [
        helper.make_node("MatMul", ["ones", prev], ["rv"]),
        helper.make_node("MatMul", ["rv", "z5"], ["s"]),
        helper.make_node("Add", ["l0", "s"], ["logits"]),
    ]
    init = [
        onnx.numpy_helper.from_array(np.zeros((OBS_SIZE, 5), np.float32), "w"),
        onnx.numpy_helper.from_array(np.ones((1, n), np.float32), "ones"),
        onnx.numpy_helper.from_array(np.zeros((n, 5), np.float32), "z5"),
    ]
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", OBS_SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 5])],
        init,
    )
    return _write_model(path, graph)


def test_a_model_whose_total_work_or_size_is_far_beyond_an_mlps_is_refused(tmp_path: Path) -> None:
    """Each tensor within the bound, but 60 (1344 x 1344) MatMuls took 2.5 s a decision, and 50,000 Relus
    seconds to load: both are refused from the file alone."""
    with pytest.raises(PolicyFileError, match="multiply-adds per decision"):
        OnnxPolicy(_chain_model(tmp_path / "chain.onnx", matmuls=60))
    with pytest.raises(PolicyFileError, match="nodes; an MLP policy has at most"):
        OnnxPolicy(_chain_model(tmp_path / "long.onnx", matmuls=0, relus=300))
