using System.Runtime.CompilerServices;
using FaceIndex.Core;
using FaceIndex.Index.Internal;

namespace FaceIndex.Index;

public sealed partial class HnswIndex
{
    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The index holds <see cref="MaxCapacity"/> vectors.</exception>
    public unsafe void Add(long id, in FaceVector vector)
    {
        int slot = Reserve(id, out int level, out var storage);
        try
        {
            Unsafe.CopyBlockUnaligned(
                ref *storage.Vector(slot),
                ref Unsafe.As<FaceVector, byte>(ref Unsafe.AsRef(in vector)),
                GraphStorage.VectorBytes);

            Publish(storage, slot, id);
            Link(storage, slot, level);
        }
        finally
        {
            _structureLock.ExitReadLock();
        }
    }

    /// <summary>
    /// Adds many vectors on <paramref name="maxDegreeOfParallelism"/> threads (0 = all cores).
    /// With one thread the result is deterministic.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length, or an id is present already (the vectors before it are added).</exception>
    public void AddRange(ReadOnlyMemory<long> ids, ReadOnlyMemory<FaceVector> vectors, int maxDegreeOfParallelism = 0, CancellationToken cancellationToken = default) =>
        AddRange(ids, vectors, null, maxDegreeOfParallelism, cancellationToken);

    /// <summary>
    /// Adds many vectors on <paramref name="maxDegreeOfParallelism"/> threads (0 = all cores), calling
    /// <paramref name="added"/> with each id as soon as it is searchable, on the thread that added it.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length, or an id is present already (the vectors before it are added).</exception>
    public void AddRange(ReadOnlyMemory<long> ids, ReadOnlyMemory<FaceVector> vectors, Action<long>? added, int maxDegreeOfParallelism = 0, CancellationToken cancellationToken = default)
    {
        if (ids.Length != vectors.Length)
        {
            throw new ArgumentException($"{ids.Length} ids but {vectors.Length} vectors.", nameof(vectors));
        }

        EnsureCapacity(_nextSlot + ids.Length);
        if (maxDegreeOfParallelism == 1)
        {
            for (int i = 0; i < ids.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Add(ids.Span[i], in vectors.Span[i]);
                added?.Invoke(ids.Span[i]);
            }

            return;
        }

        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = maxDegreeOfParallelism <= 0 ? Environment.ProcessorCount : maxDegreeOfParallelism,
            CancellationToken = cancellationToken,
        };

        // Small chunks handed out in order keep concurrent inserts close to file order.
        int next = -1;
        try
        {
            Parallel.For(0, parallel.MaxDegreeOfParallelism, parallel, _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < ids.Length)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Add(ids.Span[i], in vectors.Span[i]);
                    added?.Invoke(ids.Span[i]);
                }
            });
        }
        finally
        {
            LinkOrphans(ids.Span[..Math.Min(ids.Length, next + 1)], parallel.MaxDegreeOfParallelism);
        }
    }

    /// <summary>Grows the index now to hold at least <paramref name="capacity"/> vectors, so that later adds do not pause to grow it.</summary>
    public void EnsureCapacity(int capacity)
    {
        if (capacity > _storage.Capacity)
        {
            Grow(capacity);
        }
    }

    /// <summary>
    /// Draws the level, checks the id, and takes a slot (and an upper-layer block), growing the
    /// storage when it is full. The slot comes back tombstoned (pending): no scan returns it
    /// before <see cref="Publish"/>. Returns with the structure lock held shared.
    /// </summary>
    private int Reserve(long id, out int level, out GraphStorage storage)
    {
        level = -1;
        while (true)
        {
            _structureLock.EnterReadLock();
            storage = _storage;
            int slot = -1;
            bool duplicate = false;
            lock (_allocationLock)
            {
                if (_idMap.TryGet(id, storage.Ids, out _))
                {
                    duplicate = true;
                }
                else
                {
                    if (level < 0)
                    {
                        level = NextLevel();
                    }

                    if (_freeSlots.Count > 0 || _nextSlot < storage.Capacity)
                    {
                        slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : NewSlot(storage);
                        if (level > 0)
                        {
                            storage.Upper.Allocate(slot, level);
                        }

                        storage.Ids[slot] = id;
                        _idMap.Add(id, slot, storage.Ids);
                        _count++;
                    }
                }
            }

            if (slot >= 0)
            {
                return slot;
            }

            _structureLock.ExitReadLock();
            if (duplicate)
            {
                throw new ArgumentException($"The index holds id {id} already.", nameof(id));
            }

            Grow(_nextSlot + 1);
        }
    }

    /// <summary>
    /// Takes a never-used slot: its tombstone is set before the slot count that lock-free scans
    /// read is raised, so a scan never sees the slot's unwritten vector. Free slots keep the
    /// tombstone they had since the repair that freed them.
    /// </summary>
    private int NewSlot(GraphStorage storage)
    {
        int slot = _nextSlot;
        storage.ClearBaseList(slot);
        storage.SetDeleted(slot);
        Volatile.Write(ref _nextSlot, slot + 1);
        return slot;
    }

    /// <summary>
    /// Clears the pending tombstone once the vector is written, unless the id was removed (or
    /// removed and added again elsewhere) meanwhile: then the slot stays deleted, as counted.
    /// </summary>
    private void Publish(GraphStorage storage, int slot, long id)
    {
        lock (_allocationLock)
        {
            if (_idMap.TryGet(id, storage.Ids, out int current) && current == slot)
            {
                storage.ClearDeleted(slot);
            }
        }
    }

    /// <summary>Replaces the storage with a bigger copy (exclusive: waits for running mutations).</summary>
    private void Grow(int minCapacity)
    {
        _structureLock.EnterWriteLock();
        try
        {
            var old = _storage;
            if (minCapacity <= old.Capacity)
            {
                return;
            }

            if (minCapacity > MaxCapacity)
            {
                throw new InvalidOperationException($"An index holds at most {MaxCapacity} vectors.");
            }

            int capacity = (int)Math.Clamp(Math.Max((long)old.Capacity * 3 / 2, minCapacity), 1, MaxCapacity);
            var next = old.Grow(capacity, _nextSlot);
            lock (_allocationLock)
            {
                _idMap.EnsureCapacity(capacity, next.Ids);
            }

            _storage = next;
        }
        finally
        {
            _structureLock.ExitWriteLock();
        }
    }
}
