"""PPO for the narrator, in one file in the cleanrl style (Args → make_env → Agent → train, top to bottom).

    ludoforge train narrator                      # ~15 min on 2 CPU cores
    ludoforge train narrator --total-timesteps 400000 --num-envs 8
    ludoforge train narrator --dry-run            # the whole pipeline in seconds, into a temporary folder

The env is `NarratorEnv` (agents/envs/narrator_env.py) on the five training player types and training dungeon
seeds; the greedy policy is then played on the two held-out types and unseen dungeons. TensorBoard
(`tensorboard --logdir runs/narrator`) gets charts/* (episode return, length, won, quit, died) and losses/*.
Everything goes under --run-dir (runs/narrator/), never into the package: the logs and the result,
narrator.onnx, its tensors (narrator.safetensors) and its card (narrator.json: command, seed, args, data,
observation layout, held-out results sampled as shipped and greedy, ONNX parity, date); another `--seed N`
writes narrator_seedN.* instead. `ludoforge publish runs/narrator` ships seed 1 as agents/policies/narrator.*,
which the game's narrator loads, and other seeds beside it in agents/policies/seeds/.
"""

from __future__ import annotations

import hashlib
import shlex
import sys
import tempfile
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
import tyro
from torch import nn
from torch.distributions.categorical import Categorical
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from agents.envs.narrator_env import TEST_START_LEVEL, NarratorEnv
from agents.narrator.evaluate import play, summarise
from agents.narrator.players import HELD_OUT_TYPES, TRAINING_TYPES
from agents.narrator.policy import OnnxNarrator
from agents.narrator.session import INTERVENTIONS, OBS_SIZE, OBSERVATION
from agents.policies.export import write_onnx
from engine.errors import InputError
from procgen.core.device import select_device
from procgen.core.training import publish_target, run_facts, seeded_name
from procgen.core.weights import save_weights

MAX_TIMESTEPS = 20_000_000
MAX_ENVS = 64


@dataclass
class Args:
    exp_name: str = "ppo_narrator"
    seed: int = 1
    """seeds torch, numpy and the envs"""
    total_timesteps: int = 150_000
    """narrator decisions (two seconds of game time each) to train for"""
    num_envs: int = 4
    """envs run in parallel, each in its own process"""
    num_steps: int = 256
    """rollout length per env between updates"""
    learning_rate: float = 2.5e-4
    anneal_lr: bool = True
    gamma: float = 0.99
    gae_lambda: float = 0.95
    num_minibatches: int = 4
    update_epochs: int = 4
    clip_coef: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden: int = 64
    """units in each of the two hidden layers of the actor and the critic"""
    num_levels: int = 500
    """training dungeon seeds 0 .. num_levels - 1; held-out evaluation uses seeds from 1,000,000"""
    eval_episodes: int = 100
    """episodes per held-out player type for the card"""
    run_dir: str = "runs/narrator"
    publish_as: str = "auto"
    """where `ludoforge publish` ships the run: "auto" is the shipped policy (agents/policies/narrator) for
    seed 1 and a sibling seed (agents/policies/seeds/narrator_seed<N>, which the eval aggregates) otherwise"""
    policy_out: str | None = None
    """output stem (writes .onnx, .safetensors and .json); default <run-dir>/narrator (publish it with
    `ludoforge publish <run-dir>`)"""
    device: str = "auto"
    """auto | cpu | cuda | cuda:N"""
    threads: int = 1
    """torch CPU threads (the envs' processes want the other cores)"""
    dry_run: bool = False
    """a few hundred steps into a temporary folder: checks the whole pipeline"""


def make_env(seed: int, num_levels: int):
    def thunk() -> gym.Env:
        env = NarratorEnv(num_levels=num_levels)
        env = gym.wrappers.RecordEpisodeStatistics(env)
        env.action_space.seed(seed)
        return env

    return thunk


def layer_init(layer: nn.Linear, std: float = float(np.sqrt(2)), bias_const: float = 0.0) -> nn.Linear:
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(
        self, obs_size: int = OBS_SIZE, n_actions: int = len(INTERVENTIONS), hidden: int = 64
    ) -> None:
        super().__init__()
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_size, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, 1), std=1.0),
        )
        self.actor = nn.Sequential(
            layer_init(nn.Linear(obs_size, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, n_actions), std=0.01),
        )

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x)

    def get_action_and_value(self, x: torch.Tensor, action: torch.Tensor | None = None):
        logits = self.actor(x)
        probs = Categorical(logits=logits)
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action), probs.entropy(), self.critic(x)


def train(args: Args, command: str | None = None) -> Path:
    """Train, export the ONNX policy, its tensors and its card; return the .onnx path."""
    if not 1 <= args.total_timesteps <= MAX_TIMESTEPS:
        raise InputError("total_timesteps", f"expected 1..{MAX_TIMESTEPS}, got {args.total_timesteps}")
    if not 1 <= args.num_envs <= MAX_ENVS:
        raise InputError("num_envs", f"expected 1..{MAX_ENVS}, got {args.num_envs}")
    if args.dry_run:
        args.total_timesteps, args.num_envs, args.num_steps, args.eval_episodes = 256, 2, 64, 2
        args.num_levels = 4
    root = args.run_dir
    if args.dry_run and root == Args.run_dir:
        root = tempfile.mkdtemp(prefix="ludoforge-dry-run-")
    run_name = f"ludoforge/Narrator-v0__{args.exp_name}__{args.seed}__{int(time.time())}"
    writer = SummaryWriter(str(Path(root) / run_name))
    writer.add_text(
        "hyperparameters", "|param|value|\n|-|-|\n" + "\n".join(f"|{k}|{v}|" for k, v in asdict(args).items())
    )
    # A trainer never writes into agents/policies/: `ludoforge publish` does, after checking the card.
    # Seeds other than the shipped one write their own stem, so they never overwrite it.
    out = (
        Path(args.policy_out)
        if args.policy_out and not args.dry_run
        else Path(root) / seeded_name("narrator", args.seed)
    )

    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, args.threads))
    device = select_device(args.device)
    batch_size = args.num_envs * args.num_steps
    minibatch_size = batch_size // args.num_minibatches
    num_iterations = max(1, args.total_timesteps // batch_size)

    thunks = [make_env(args.seed + i, args.num_levels) for i in range(args.num_envs)]
    envs = gym.vector.AsyncVectorEnv(thunks) if args.num_envs > 1 else gym.vector.SyncVectorEnv(thunks)
    agent = Agent(hidden=args.hidden).to(device)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    obs = torch.zeros((args.num_steps, args.num_envs, OBS_SIZE), device=device)
    actions = torch.zeros((args.num_steps, args.num_envs), device=device)
    logprobs = torch.zeros((args.num_steps, args.num_envs), device=device)
    rewards = torch.zeros((args.num_steps, args.num_envs), device=device)
    dones = torch.zeros((args.num_steps, args.num_envs), device=device)
    values = torch.zeros((args.num_steps, args.num_envs), device=device)

    global_step, start = 0, time.time()
    next_obs_np, _ = envs.reset(seed=args.seed)
    next_obs = torch.as_tensor(next_obs_np, device=device)
    next_done = torch.zeros(args.num_envs, device=device)
    recent: deque[str] = deque(maxlen=200)
    bar = tqdm(total=num_iterations * batch_size, unit="step", desc="train narrator", disable=None)
    for iteration in range(1, num_iterations + 1):
        if args.anneal_lr:
            optimizer.param_groups[0]["lr"] = (1.0 - (iteration - 1.0) / num_iterations) * args.learning_rate
        for step in range(args.num_steps):
            global_step += args.num_envs
            obs[step], dones[step] = next_obs, next_done
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
                values[step] = value.flatten()
            actions[step], logprobs[step] = action, logprob
            next_obs_np, reward, terminations, truncations, infos = envs.step(action.cpu().numpy())
            rewards[step] = torch.as_tensor(reward, device=device, dtype=torch.float32)
            next_obs = torch.as_tensor(next_obs_np, device=device)
            next_done = torch.as_tensor(
                np.logical_or(terminations, truncations), device=device, dtype=torch.float32
            )
            if "episode" in infos:
                for i in np.nonzero(infos["_episode"])[0]:
                    recent.append(str(infos["outcome"][i]))
                    writer.add_scalar("charts/episodic_return", float(infos["episode"]["r"][i]), global_step)
                    writer.add_scalar("charts/episodic_length", float(infos["episode"]["l"][i]), global_step)
        bar.update(batch_size)

        with torch.no_grad():  # generalised advantage estimation
            next_value = agent.get_value(next_obs).reshape(1, -1)
            advantages = torch.zeros_like(rewards)
            lastgaelam = torch.zeros(args.num_envs, device=device)
            for t in reversed(range(args.num_steps)):
                nextnonterminal = 1.0 - (next_done if t == args.num_steps - 1 else dones[t + 1])
                nextvalues = next_value if t == args.num_steps - 1 else values[t + 1]
                delta = rewards[t] + args.gamma * nextvalues * nextnonterminal - values[t]
                lastgaelam = delta + args.gamma * args.gae_lambda * nextnonterminal * lastgaelam
                advantages[t] = lastgaelam
            returns = advantages + values

        b_obs = obs.reshape((-1, OBS_SIZE))
        b_logprobs, b_actions = logprobs.reshape(-1), actions.reshape(-1)
        b_advantages, b_returns, b_values = advantages.reshape(-1), returns.reshape(-1), values.reshape(-1)
        b_inds = np.arange(batch_size)
        clipfracs = []
        for _ in range(args.update_epochs):
            np.random.shuffle(b_inds)
            for lo in range(0, batch_size, minibatch_size):
                mb = b_inds[lo : lo + minibatch_size]
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(b_obs[mb], b_actions.long()[mb])
                logratio = newlogprob - b_logprobs[mb]
                ratio = logratio.exp()
                with torch.no_grad():
                    approx_kl = ((ratio - 1) - logratio).mean()
                    clipfracs.append(((ratio - 1.0).abs() > args.clip_coef).float().mean().item())
                mb_adv = b_advantages[mb]
                mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                pg_loss = torch.max(
                    -mb_adv * ratio, -mb_adv * torch.clamp(ratio, 1 - args.clip_coef, 1 + args.clip_coef)
                ).mean()
                v_loss = 0.5 * ((newvalue.view(-1) - b_returns[mb]) ** 2).mean()
                entropy_loss = entropy.mean()
                loss = pg_loss - args.ent_coef * entropy_loss + v_loss * args.vf_coef
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()

        y_pred, y_true = b_values.cpu().numpy(), b_returns.cpu().numpy()
        var_y = np.var(y_true)
        explained_var = np.nan if var_y == 0 else 1 - np.var(y_true - y_pred) / var_y
        writer.add_scalar("charts/learning_rate", optimizer.param_groups[0]["lr"], global_step)
        for outcome in ("won", "quit", "died"):
            writer.add_scalar(f"charts/{outcome}", recent.count(outcome) / max(len(recent), 1), global_step)
        writer.add_scalar("losses/value_loss", v_loss.item(), global_step)
        writer.add_scalar("losses/policy_loss", pg_loss.item(), global_step)
        writer.add_scalar("losses/entropy", entropy_loss.item(), global_step)
        writer.add_scalar("losses/approx_kl", approx_kl.item(), global_step)
        writer.add_scalar("losses/clipfrac", float(np.mean(clipfracs)), global_step)
        writer.add_scalar("losses/explained_variance", float(explained_var), global_step)
        writer.add_scalar("charts/SPS", int(global_step / (time.time() - start)), global_step)
        bar.set_postfix(
            won=f"{recent.count('won') / max(len(recent), 1):.2f}",
            quit=f"{recent.count('quit') / max(len(recent), 1):.2f}",
        )
    bar.close()
    envs.close()
    train_seconds = time.time() - start
    writer.close()
    return export(agent.cpu(), args, out, global_step, train_seconds, command, device)


def export(
    agent: Agent, args: Args, out: Path, steps: int, train_seconds: float, command: str | None, device
) -> Path:
    """The ONNX file, its parity with the torch actor, the held-out results and the card."""
    onnx_path = write_onnx(agent.actor.eval(), OBS_SIZE, out.with_suffix(".onnx"))
    onnx = OnnxNarrator(onnx_path, greedy=True)
    # Parity on every observation of a few greedy episodes on test dungeons.
    env = NarratorEnv(player_types=list(HELD_OUT_TYPES), start_level=TEST_START_LEVEL)
    seen = same = 0
    gap = 0.0
    for k in range(4 if args.dry_run else 20):
        o, _ = env.reset(seed=k)
        done = False
        while not done:
            with torch.no_grad():
                theirs = agent.actor(torch.as_tensor(o).unsqueeze(0)).numpy()[0]
            ours = onnx.logits(o)[0]
            same += int(theirs.argmax() == ours.argmax())
            seen += 1
            gap = max(gap, float(np.abs(theirs - ours).max()))
            o, _, terminated, truncated, _ = env.step(int(ours.argmax()))
            done = terminated or truncated
    seeds = iter(range(1_000_000))
    sampled = play(lambda: OnnxNarrator(onnx_path, seed=next(seeds)).act, episodes=args.eval_episodes)
    greedy = play(lambda: OnnxNarrator(onnx_path, greedy=True).act, episodes=args.eval_episodes)
    card = {
        "kind": "ludoforge.narrator_policy",
        "publish_as": publish_target(args.publish_as, "narrator", args.seed),
        "command": command or "ludoforge train narrator",
        "seed": args.seed,
        "args": asdict(args),
        "data": {
            "training_types": list(TRAINING_TYPES),
            "held_out_types": list(HELD_OUT_TYPES),
            "train_levels": [0, args.num_levels - 1],
            "test_levels_from": TEST_START_LEVEL,
        },
        "config": {"obs_size": OBS_SIZE, "n_actions": len(INTERVENTIONS), "hidden": args.hidden},
        "observation": list(OBSERVATION),
        "actions": [c.value for c in INTERVENTIONS],
        "steps": steps,
        "onnx_parity": {
            "observations": seen,
            "identical_fraction": same / max(seen, 1),
            "max_logit_gap": gap,
        },
        "results_held_out": _estimates(sampled),
        "results_held_out_greedy": _estimates(greedy),
        **run_facts(train_seconds, device),
        "onnx_sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
    }
    save_weights(out, dict(agent.state_dict()), card)
    return onnx_path


def _estimates(episodes) -> dict[str, dict[str, float]]:
    return {k: {"mean": v.mean, "ci95": v.half_width, "n": v.n} for k, v in summarise(episodes).items()}


def main(argv: list[str] | None = None, prog: str = "ludoforge train narrator") -> None:
    args = tyro.cli(Args, args=argv, prog=prog)
    command = " ".join([prog, *map(shlex.quote, argv if argv is not None else sys.argv[1:])])
    path = train(args, command)
    print(f"wrote {path} and its card {path.with_suffix('.json')}")


if __name__ == "__main__":
    main()
