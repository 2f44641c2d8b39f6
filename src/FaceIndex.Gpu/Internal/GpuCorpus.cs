using System.Runtime.InteropServices;
using FaceIndex.Core;
using FaceIndex.Index;
using ILGPU;
using ILGPU.Runtime;

namespace FaceIndex.Gpu.Internal;

/// <summary>
/// A corpus in device memory: codes as packed words, ids alongside; the buffers of a search are
/// kept and grown, so that repeated searches allocate nothing on the device.
/// </summary>
internal sealed class GpuCorpus(GpuExactScanner scanner) : IScanCorpus
{
    /// <summary>Queries per launch at most: bounds the lists' memory and paces progress.</summary>
    private const int MaxBatch = 65_536;

    /// <summary>Candidates the merge may read per query: bounds the slices a few queries are spread over.</summary>
    private const int MaxMergeCandidates = 8_192;

    private readonly Accelerator _accelerator = scanner.Accelerator;
    private MemoryBuffer1D<int, Stride1D.Dense>? _codes;
    private MemoryBuffer1D<long, Stride1D.Dense>? _ids;
    private MemoryBuffer1D<int, Stride1D.Dense>? _queries;
    private MemoryBuffer1D<long, Stride1D.Dense>? _excluded;
    private MemoryBuffer1D<int, Stride1D.Dense>? _listIndex;
    private MemoryBuffer1D<int, Stride1D.Dense>? _listScore;
    private MemoryBuffer1D<int, Stride1D.Dense>? _listCount;
    private MemoryBuffer1D<int, Stride1D.Dense>? _outIndex;
    private MemoryBuffer1D<int, Stride1D.Dense>? _outScore;
    private MemoryBuffer1D<int, Stride1D.Dense>? _outCount;
    private int[] _hostIndex = [];
    private int[] _hostScore = [];

    public int Count { get; private set; }

    public void Sync(ReadOnlySpan<FaceVector> vectors, ReadOnlySpan<long> ids, int from)
    {
        ScanContract.ValidateSync(vectors.Length, ids.Length, from);
        lock (scanner.Gate)
        {
            if (vectors.Length > (_ids?.Length ?? 0))
            {
                // Grown buffers start empty: copy everything.
                long capacity = Math.Min(ScanContract.MaxCorpus, Math.Max(vectors.Length, 2 * (_ids?.Length ?? 0)));
                Grow(ref _codes, capacity * ScanKernels.Words, exact: true);
                Grow(ref _ids, capacity, exact: true);
                from = 0;
            }

            int n = vectors.Length - from;
            if (n > 0)
            {
                var words = MemoryMarshal.Cast<FaceVector, int>(vectors[from..]);
                _codes!.View.SubView(from * ScanKernels.Words, words.Length).CopyFromCPU(ref MemoryMarshal.GetReference(words), words.Length);
                _ids!.View.SubView(from, n).CopyFromCPU(ref MemoryMarshal.GetReference(ids[from..]), n);
            }

            Count = vectors.Length;
        }
    }

    public void Search(
        ReadOnlyMemory<FaceVector> queries,
        ReadOnlyMemory<long> excludedIds,
        int k,
        int minScore,
        Memory<ScanHit> hits,
        Memory<int> counts,
        Action<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ScanContract.ValidateSearch(queries.Length, excludedIds.Length, k, hits.Length, counts.Length);
        cancellationToken.ThrowIfCancellationRequested();
        int total = queries.Length;
        if (Count == 0)
        {
            counts.Span[..total].Clear();
            progress?.Invoke(total);
            return;
        }

        int batch = (int)Math.Min(Math.Min(total, MaxBatch), int.MaxValue / 2 / k);
        for (int start = 0; start < total; start += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(batch, total - start);
            lock (scanner.Gate)
            {
                Launch(queries.Span.Slice(start, n), excludedIds.IsEmpty ? default : excludedIds.Span.Slice(start, n), k, minScore);
                Collect(n, k, hits.Span.Slice(start * k, n * k), counts.Span.Slice(start, n));
            }

            progress?.Invoke(n);
        }
    }

    private void Launch(ReadOnlySpan<FaceVector> queries, ReadOnlySpan<long> excluded, int k, int minScore)
    {
        int n = queries.Length;
        int group = Math.Min(n >= 128 ? 128 : 32, _accelerator.MaxNumThreadsPerGroup);
        int queryGroups = (n + group - 1) / group;
        int tiles = (Count + ScanKernels.TileVectors - 1) / ScanKernels.TileVectors;

        // Enough groups to fill the device; a few queries are spread over more slices of the corpus.
        int slices = Math.Max(1, scanner.TargetGroups / queryGroups);
        slices = Math.Min(slices, Math.Min(tiles, Math.Max(1, MaxMergeCandidates / k)));
        slices = (int)Math.Min(slices, int.MaxValue / 2 / ((long)n * k));
        int sliceTiles = (tiles + slices - 1) / slices;
        slices = (tiles + sliceTiles - 1) / sliceTiles;
        var shape = new ScanShape
        {
            Queries = n,
            Corpus = Count,
            K = k,
            MinScore = minScore,
            SliceLength = sliceTiles * ScanKernels.TileVectors,
            Slices = slices,
            Excludes = excluded.IsEmpty ? 0 : 1,
        };

        Grow(ref _queries, (long)n * ScanKernels.Words);
        Grow(ref _excluded, n);
        Grow(ref _listIndex, (long)n * slices * k);
        Grow(ref _listScore, (long)n * slices * k);
        Grow(ref _listCount, (long)n * slices);
        var words = MemoryMarshal.Cast<FaceVector, int>(queries);
        _queries!.View.SubView(0, words.Length).CopyFromCPU(ref MemoryMarshal.GetReference(words), words.Length);
        if (!excluded.IsEmpty)
        {
            _excluded!.View.SubView(0, n).CopyFromCPU(ref MemoryMarshal.GetReference(excluded), n);
        }

        scanner.ScanKernel(
            new KernelConfig(new Index2D(queryGroups, slices), new Index2D(group, 1)),
            _queries.View,
            _codes!.View,
            _ids!.View,
            _excluded!.View,
            _listIndex!.View,
            _listScore!.View,
            _listCount!.View,
            shape);
        if (slices == 1)
        {
            // One slice: its lists are the results, at query · k.
            (_outIndex, _listIndex) = (_listIndex, _outIndex);
            (_outScore, _listScore) = (_listScore, _outScore);
            (_outCount, _listCount) = (_listCount, _outCount);
            return;
        }

        Grow(ref _outIndex, (long)n * k);
        Grow(ref _outScore, (long)n * k);
        Grow(ref _outCount, n);
        scanner.MergeKernel(
            new KernelConfig(new Index1D(queryGroups), new Index1D(group)),
            _listIndex!.View,
            _listScore!.View,
            _listCount!.View,
            _ids.View,
            _outIndex!.View,
            _outScore!.View,
            _outCount!.View,
            shape);
    }

    private void Collect(int n, int k, Span<ScanHit> hits, Span<int> counts)
    {
        _accelerator.Synchronize();
        int length = n * k;
        if (_hostIndex.Length < length)
        {
            _hostIndex = new int[length];
            _hostScore = new int[length];
        }

        _outCount!.View.SubView(0, n).CopyToCPU(ref MemoryMarshal.GetReference(counts), n);
        _outIndex!.View.SubView(0, length).CopyToCPU(ref _hostIndex[0], length);
        _outScore!.View.SubView(0, length).CopyToCPU(ref _hostScore[0], length);
        for (int q = 0; q < n; q++)
        {
            int offset = q * k;
            for (int i = 0; i < counts[q]; i++)
            {
                hits[offset + i] = new ScanHit(_hostIndex[offset + i], _hostScore[offset + i]);
            }
        }
    }

    /// <summary>Makes <paramref name="buffer"/> hold at least <paramref name="length"/> elements (at least 1), with headroom unless <paramref name="exact"/>.</summary>
    private void Grow<T>(ref MemoryBuffer1D<T, Stride1D.Dense>? buffer, long length, bool exact = false)
        where T : unmanaged
    {
        length = Math.Max(1, length);
        if (buffer is not null && buffer.Length >= length)
        {
            return;
        }

        long size = exact ? length : Math.Max(length, (buffer?.Length ?? 0) * 2);
        buffer?.Dispose();
        buffer = _accelerator.Allocate1D<T>(size);
    }

    public void Dispose()
    {
        lock (scanner.Gate)
        {
            _codes?.Dispose();
            _ids?.Dispose();
            _queries?.Dispose();
            _excluded?.Dispose();
            _listIndex?.Dispose();
            _listScore?.Dispose();
            _listCount?.Dispose();
            _outIndex?.Dispose();
            _outScore?.Dispose();
            _outCount?.Dispose();
        }
    }
}
