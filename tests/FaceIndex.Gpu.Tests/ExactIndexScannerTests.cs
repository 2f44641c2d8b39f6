using FaceIndex.Index;

namespace FaceIndex.Gpu.Tests;

/// <summary>The exact index searching through the GPU kernels gives the CPU scan's results, through adds and removes.</summary>
public sealed class ExactIndexScannerTests(ScannerFixture fixture) : IClassFixture<ScannerFixture>
{
    [Fact]
    public void Searches_on_the_scanner_match_the_cpu_scan_through_adds_and_removes()
    {
        var (vectors, ids) = RandomCodes.Create(400, 3, seed: 11);
        using var onScanner = new ExactIndex(16, fixture.Scanner, scanFrom: 0);
        using var onCpu = new ExactIndex(16);
        var random = new Random(12);
        var live = new List<long>();
        var results = new Neighbor[25];
        var expected = new Neighbor[25];
        for (int step = 0; step < 120; step++)
        {
            // Grow in bursts (the device copy grows), remove from anywhere (the last slot moves into the hole).
            for (int a = 0; a < 3 && live.Count + a < ids.Length; a++)
            {
                int next = (step * 3) + a;
                if (next < ids.Length)
                {
                    onScanner.Add(ids[next], vectors[next]);
                    onCpu.Add(ids[next], vectors[next]);
                    live.Add(ids[next]);
                }
            }

            if (step % 4 == 3)
            {
                long gone = live[random.Next(live.Count)];
                Assert.True(onScanner.Remove(gone));
                Assert.True(onCpu.Remove(gone));
                live.Remove(gone);
            }

            var query = vectors[random.Next(vectors.Length)];
            int k = 1 + random.Next(results.Length);
            int want = onCpu.Search(query, expected.AsSpan(0, k));
            int got = onScanner.Search(query, results.AsSpan(0, k));
            Assert.Equal(expected.AsSpan(0, want).ToArray(), results.AsSpan(0, got).ToArray());
        }

        Assert.Equal(live.Count, onScanner.Count);
    }

    [Fact]
    public void Below_the_crossover_the_index_scans_itself()
    {
        // The CPU accelerator never pays off for one query: its crossover is "never".
        Assert.Equal(int.MaxValue, fixture.Scanner.SingleQueryCrossover);
        var (vectors, ids) = RandomCodes.Create(50, 127, seed: 13);
        using var index = new ExactIndex(16, fixture.Scanner);
        for (int i = 0; i < ids.Length; i++)
        {
            index.Add(ids[i], vectors[i]);
        }

        var results = new Neighbor[5];
        Assert.Equal(5, index.Search(vectors[0], results));
        Assert.Equal(ids[0], results[0].Id);
    }
}
