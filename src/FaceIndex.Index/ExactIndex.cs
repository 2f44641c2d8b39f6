using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FaceIndex.Core;

namespace FaceIndex.Index;

/// <summary>
/// Exact nearest neighbours by a SIMD scan of every vector: the index for small collections and
/// the ground truth of the HNSW tests. Vectors live in one contiguous array (a removal moves the
/// last vector into the hole, so the scan never skips); results are ordered by score descending,
/// ties by the smaller id. Searches share a reader lock; adds and removes take it exclusively.
/// </summary>
/// <remarks>
/// Given an <see cref="IExactScanner"/> (a GPU), searches of a collection of at least its
/// crossover size run there instead, on a copy of the vectors that each such search brings up to
/// date (only the slots changed since the previous one are copied); results are identical.
/// </remarks>
public sealed class ExactIndex : IVectorIndex
{
    private const int ParallelThreshold = 262_144;
    private const int ParallelChunks = 8;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<long, int> _slots;
    private FaceVector[] _vectors;
    private long[] _ids;
    private int _count;

    private readonly IExactScanner? _scanner;
    private readonly int _scanFrom;
    private readonly Lock _corpusGate = new();
    private IScanCorpus? _corpus;
    private int _synced;
    private readonly FaceVector[] _query = new FaceVector[1];
    private ScanHit[] _hits = [];
    private readonly int[] _found = new int[1];

    /// <summary>Creates an empty index with room for <paramref name="capacity"/> vectors before it grows.</summary>
    public ExactIndex(int capacity = 1024)
        : this(capacity, null)
    {
    }

    /// <summary>
    /// Creates an empty index whose searches run on <paramref name="scanner"/> once it holds at least
    /// <paramref name="scanFrom"/> vectors (default: the scanner's <see cref="IExactScanner.SingleQueryCrossover"/>).
    /// </summary>
    /// <param name="capacity">Vectors before the arrays grow.</param>
    /// <param name="scanner">Where large scans run; null scans on the calling thread(s) always.</param>
    /// <param name="scanFrom">The size from which searches go to the scanner.</param>
    public ExactIndex(int capacity, IExactScanner? scanner, int? scanFrom = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _vectors = new FaceVector[Math.Max(capacity, 16)];
        _ids = new long[_vectors.Length];
        _slots = new Dictionary<long, int>(capacity);
        _scanner = scanner;
        _scanFrom = scanner is null ? int.MaxValue : Math.Max(0, scanFrom ?? scanner.SingleQueryCrossover);
    }

    /// <inheritdoc />
    public int Count => Volatile.Read(ref _count);

    /// <inheritdoc />
    public void Dispose()
    {
        _corpus?.Dispose();
        _lock.Dispose();
    }

    /// <inheritdoc />
    public void Add(long id, in FaceVector vector)
    {
        _lock.EnterWriteLock();
        try
        {
            if (!_slots.TryAdd(id, _count))
            {
                throw new ArgumentException($"The index holds id {id} already.", nameof(id));
            }

            if (_count == _vectors.Length)
            {
                Array.Resize(ref _vectors, _vectors.Length * 2);
                Array.Resize(ref _ids, _vectors.Length);
            }

            _vectors[_count] = vector;
            _ids[_count] = id;
            _count++;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public bool Remove(long id)
    {
        _lock.EnterWriteLock();
        try
        {
            if (!_slots.Remove(id, out int slot))
            {
                return false;
            }

            int last = --_count;
            if (slot != last)
            {
                _vectors[slot] = _vectors[last];
                _ids[slot] = _ids[last];
                _slots[_ids[slot]] = slot;
            }

            // The scanner's copy differs from here on.
            _synced = Math.Min(_synced, slot);

            return true;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public bool Contains(long id)
    {
        _lock.EnterReadLock();
        try
        {
            return _slots.ContainsKey(id);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <inheritdoc />
    public bool TryGetVector(long id, out FaceVector vector)
    {
        _lock.EnterReadLock();
        try
        {
            if (_slots.TryGetValue(id, out int slot))
            {
                vector = _vectors[slot];
                return true;
            }

            vector = default;
            return false;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <inheritdoc />
    /// <remarks><paramref name="ef"/> is ignored: every vector is scored. Collections above 256k vectors are scanned on several cores.</remarks>
    public int Search(in FaceVector query, Span<Neighbor> results, int ef = 0)
    {
        if (results.IsEmpty)
        {
            return 0;
        }

        _lock.EnterReadLock();
        try
        {
            int k = Math.Min(results.Length, _count);
            if (_count >= _scanFrom && k > 0)
            {
                return ScannerSearch(query, results[..k]);
            }

            if (_count < ParallelThreshold)
            {
                return Scan(query, 0, _count, results[..k]);
            }

            return ParallelScan(query, results[..k]);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>One query on the scanner, under the reader lock: syncs the changed slots, then scans.</summary>
    private int ScannerSearch(in FaceVector query, Span<Neighbor> results)
    {
        int k = results.Length;
        lock (_corpusGate)
        {
            _corpus ??= _scanner!.CreateCorpus();
            _corpus.Sync(_vectors.AsSpan(0, _count), _ids.AsSpan(0, _count), Math.Min(_synced, _count));
            _synced = _count;
            if (_hits.Length < k)
            {
                _hits = new ScanHit[k];
            }

            _query[0] = query;
            _corpus.Search(_query, ReadOnlyMemory<long>.Empty, k, int.MinValue, _hits, _found);
            int found = _found[0];
            for (int i = 0; i < found; i++)
            {
                results[i] = new Neighbor(_ids[_hits[i].Index], _hits[i].Score);
            }

            return found;
        }
    }

    private int ParallelScan(FaceVector query, Span<Neighbor> results)
    {
        int k = results.Length;
        var partial = new Neighbor[ParallelChunks * k];
        var counts = new int[ParallelChunks];
        int chunk = (_count + ParallelChunks - 1) / ParallelChunks;
        Parallel.For(0, ParallelChunks, c =>
        {
            int start = c * chunk;
            int end = Math.Min(_count, start + chunk);
            counts[c] = start < end ? Scan(query, start, end, partial.AsSpan(c * k, k)) : 0;
        });

        int n = 0;
        for (int c = 0; c < ParallelChunks; c++)
        {
            foreach (var candidate in partial.AsSpan(c * k, counts[c]))
            {
                n = Offer(results, n, candidate);
            }
        }

        return SortHeap(results, n);
    }

    /// <summary>Top-k of slots [start, end) into <paramref name="results"/> (a min-heap while scanning, sorted at the end).</summary>
    private int Scan(in FaceVector query, int start, int end, Span<Neighbor> results)
    {
        ref sbyte q = ref MemoryMarshal.GetReference(query.AsSpan());
        ref var vectors = ref MemoryMarshal.GetArrayDataReference(_vectors);
        int n = 0;
        int k = results.Length;
        int worst = int.MinValue;
        for (int i = start; i < end; i++)
        {
            ref sbyte v = ref Unsafe.As<FaceVector, sbyte>(ref Unsafe.Add(ref vectors, i));
            int score = VectorMath.Dot128(ref q, ref v);
            if (n < k || score >= worst)
            {
                n = Offer(results, n, new Neighbor(_ids[i], score));
                if (n == k)
                {
                    worst = results[0].Score;
                }
            }
        }

        return SortHeap(results, n);
    }

    /// <summary>Adds a candidate to a heap of at most results.Length (worst on top).</summary>
    private static int Offer(Span<Neighbor> heap, int n, Neighbor candidate)
    {
        if (n < heap.Length)
        {
            int i = n++;
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (!Worse(candidate, heap[parent]))
                {
                    break;
                }

                heap[i] = heap[parent];
                i = parent;
            }

            heap[i] = candidate;
            return n;
        }

        if (!Worse(heap[0], candidate))
        {
            return n;
        }

        SiftDown(heap, n, candidate);
        return n;
    }

    private static void SiftDown(Span<Neighbor> heap, int n, Neighbor item)
    {
        int i = 0;
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= n)
            {
                break;
            }

            if (child + 1 < n && Worse(heap[child + 1], heap[child]))
            {
                child++;
            }

            if (!Worse(heap[child], item))
            {
                break;
            }

            heap[i] = heap[child];
            i = child;
        }

        heap[i] = item;
    }

    /// <summary>Heap-sorts in place: best first.</summary>
    private static int SortHeap(Span<Neighbor> heap, int n)
    {
        for (int end = n - 1; end > 0; end--)
        {
            var worst = heap[0];
            SiftDown(heap, end, heap[end]);
            heap[end] = worst;
        }

        return n;
    }

    /// <summary>Lower score, or equal score and larger id.</summary>
    private static bool Worse(Neighbor a, Neighbor b) => a.Score < b.Score || (a.Score == b.Score && a.Id > b.Id);
}
