"""The py-spy summary of `python -m bench.profile`: busy samples by kind of work and by thread."""

from bench.profile import IO_WAIT, summarize

RAW = "\n".join(
    [
        "thread (101): forward_0;Thread.run (threading.py)"
        ";InferenceEngine.run.<locals>.forward (node/inference/engine.py)"
        ";Module._call_impl (torch/nn/modules/module.py);Linear.forward (torch/nn/modules/linear.py) 30",
        "thread (102): worker;PollingDaemon.run (node/daemon.py);Worker.step (node/worker/daemon.py)"
        ";EventListener.poll (node/chain/listener.py);EventDecoder.decode (node/chain/events.py) 10",
        "thread (102): worker;PollingDaemon.run (node/daemon.py);TxSender.send (node/chain/tx.py)"
        ";SocketIO.readinto (socket.py) 5",
        "thread (102): worker;PollingDaemon.run (node/daemon.py);Store.put_batch (node/store.py) 5",
        "thread (103): api;Server.serve (uvicorn/server.py);EpollSelector.select (selectors.py) 50",
        "thread (104): MainThread;Supervisor.run (node/supervisor.py);Condition.wait (threading.py) 70",
    ]
)


def test_summarize_leaves_idle_threads_out_and_shares_busy_samples_by_kind_and_thread():
    summary = summarize(RAW)
    assert summary["samples"] == 50  # The selector and the condition wait are idle.
    assert summary["by_kind"] == {
        "model forward (PyTorch)": 0.6,
        "chain events (poll, decode, handle)": 0.2,
        IO_WAIT: 0.1,
        "store (SQLite)": 0.1,
    }
    assert summary["by_thread"] == {"forward": 0.6, "worker": 0.4}


def test_summarize_of_no_busy_samples_is_empty():
    assert summarize("thread (1): MainThread;Condition.wait (threading.py) 9\nnot a sample line") == {
        "samples": 0,
        "by_kind": {},
        "by_thread": {},
    }
