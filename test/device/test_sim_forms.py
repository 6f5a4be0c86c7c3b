"""runtime/sim.py gives tt-lang-sim 1.1.6 tt-lang 1.1.1's call forms with 1.1.1's meaning.

A one-core operation written in the 1.1.1 forms runs on the simulator; every output
tile is checked against values derived by hand from the input:

* tile 0: `reduce_sum(a, s, dims=[0])` - the column sums on row 0, times the
  scaler's (0, 0) element (2.0), zeros below (the hardware reduce's placement);
* tile 1: `broadcast(a, o, dims=[0])` - row 0 of a on every row;
* tile 2: `broadcast(a, o, dims=[1])` - column 0 of a on every column;
* tile 3: `o += a` three times, the first `+=` writing: 3 * a, plus `fill(o, 0.5)`
  on the first: 3 * a + 0.5.
"""

from __future__ import annotations

import torch

from tt_dw_mlir.runtime.sim import sim_ttl

TILE = 32


def _operation(ttl):
    @ttl.operation(grid=(1, 1))
    def forms(a, scaler, out):
        a_cb = ttl.make_dataflow_buffer_like(a, shape=(1, 1), block_count=2)
        s_cb = ttl.make_dataflow_buffer_like(scaler, shape=(1, 1), block_count=1)
        o_cb = ttl.make_dataflow_buffer_like(out, shape=(1, 1), block_count=2)

        @ttl.datamovement()
        def reader():
            with s_cb.reserve() as blk:
                tx = ttl.copy(scaler[0:1, 0:1], blk)
                tx.wait()
            for i in range(6):
                with a_cb.reserve() as blk:
                    tx = ttl.copy(a[0:1, 0:1], blk)
                    tx.wait()

        @ttl.compute()
        def compute():
            with s_cb.wait() as s:
                with a_cb.wait() as x, o_cb.reserve() as o:
                    o.store(ttl.math.reduce_sum(x, s, dims=[0]))
            with a_cb.wait() as x, o_cb.reserve() as o:
                o.store(ttl.math.broadcast(x, o, dims=[0]))
            with a_cb.wait() as x, o_cb.reserve() as o:
                o.store(ttl.math.broadcast(x, o, dims=[1]))
            with o_cb.reserve() as o:
                for i in range(3):
                    with a_cb.wait() as x:
                        if i == 0:
                            o += ttl.math.fill(o, 0.5) + x
                        else:
                            o += x

        @ttl.datamovement()
        def writer():
            for t in range(4):
                with o_cb.wait() as blk:
                    tx = ttl.copy(blk, out[0:1, t:t + 1])
                    tx.wait()

    return forms


def test_1_1_1_forms_on_the_simulator():
    from ttl.sim import ttnn

    a = torch.arange(TILE * TILE, dtype=torch.float32).reshape(TILE, TILE) / 64 - 7
    scaler = torch.full((TILE, TILE), 2.0)
    tensors = [ttnn.from_torch(t, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)
               for t in (a, scaler, torch.zeros(TILE, 4 * TILE))]
    _operation(sim_ttl())(*tensors)
    out = tensors[2].to_torch().reshape(TILE, 4, TILE).permute(1, 0, 2)
    reduced = torch.zeros(TILE, TILE)
    reduced[0] = a.sum(dim=0) * 2.0
    torch.testing.assert_close(out[0], reduced, rtol=0, atol=1e-4)
    assert torch.equal(out[1], a[0].expand(TILE, TILE))
    assert torch.equal(out[2], a[:, :1].expand(TILE, TILE))
    assert torch.equal(out[3], 0.5 + a + a + a)
