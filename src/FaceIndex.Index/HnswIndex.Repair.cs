using System.Numerics;
using FaceIndex.Index.Internal;

namespace FaceIndex.Index;

public sealed partial class HnswIndex
{
    /// <summary>Slots repaired per exclusive hold when <see cref="Repair"/> runs a whole round.</summary>
    private const int RepairChunk = 4096;

    private readonly Lock _repairGate = new();
    private RepairRound? _round;
    private RetiredSlots? _retired;
    private int _claimed;

    /// <summary>
    /// True when <see cref="RepairStep"/> has work: a round is under way, freed slots await the end
    /// of the searches that may still read them, or the deleted vectors not yet claimed by a round
    /// pass <see cref="IndexOptions.RepairThreshold"/> of the occupied slots (never when it is 0).
    /// </summary>
    public bool NeedsRepair
    {
        get
        {
            lock (_repairGate)
            {
                return _round is not null || _retired is not null || ThresholdPassed();
            }
        }
    }

    /// <summary>
    /// Does a bounded piece of the graph repair, for a background owner to call between other work
    /// (a remove never repairs). A round (1) claims the vectors deleted so far, (2) rewrites, at most
    /// <paramref name="maxNodes"/> slots per call and under the exclusive structure lock for that
    /// call only, every list that links to a deleted node (from its live links and the live nodes
    /// reachable through its deleted ones), (3) retires the claimed slots, and (4) once every search
    /// that started before the retirement has ended, frees them for reuse.
    /// </summary>
    /// <remarks>
    /// Runs on the caller's thread only. Adds and removes wait for at most one call's
    /// <paramref name="maxNodes"/> slots; searches never wait. Safe to call from several threads
    /// (one runs at a time).
    /// </remarks>
    /// <param name="maxNodes">Most slots to repair in this call (about 10–30 µs each).</param>
    /// <param name="cancellationToken">Stops the round between slots; the next call resumes it.</param>
    /// <returns>True when more work remains (call again); false when there is nothing to do now.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNodes"/> is not positive.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public bool RepairStep(int maxNodes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxNodes);
        return Step(maxNodes, force: false, cancellationToken);
    }

    /// <summary>
    /// Repairs the graph now, whatever the threshold: claims every deleted vector, rewrites the lists
    /// that link to them, waits for the searches that may still read them, and frees them. Blocks
    /// adds and removes a chunk of slots at a time; for tools, tests and shutdown, not for requests.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled (the repair resumes at the next call).</exception>
    public void Repair(CancellationToken cancellationToken = default)
    {
        var spin = default(SpinWait);
        while (Step(RepairChunk, force: true, cancellationToken))
        {
            if (Volatile.Read(ref _retired) is { } retired && !ReadersDrained(retired.Parity))
            {
                spin.SpinOnce();
            }
        }
    }

    private bool Step(int maxNodes, bool force, CancellationToken ct)
    {
        lock (_repairGate)
        {
            ct.ThrowIfCancellationRequested();
            if (_retired is { } retired)
            {
                if (!ReadersDrained(retired.Parity))
                {
                    return true;
                }

                FreeRetired(retired);
                return force ? DeletedCount > 0 : ThresholdPassed();
            }

            if (_round is null && !((force || ThresholdPassed()) && StartRound()))
            {
                return false;
            }

            RepairSome(_round!, maxNodes, ct);
            return true;
        }
    }

    /// <summary>Whether the deleted vectors not claimed by a round pass the threshold (caller holds the repair gate).</summary>
    private bool ThresholdPassed()
    {
        double threshold = _options.RepairThreshold;
        if (threshold <= 0)
        {
            return false;
        }

        lock (_allocationLock)
        {
            int occupied = _nextSlot - _freeSlots.Count;
            int unclaimed = _deleted - _claimed;
            return unclaimed > 0 && unclaimed > threshold * occupied;
        }
    }

    /// <summary>
    /// Claims every deleted slot that is not free (exclusive, so no add is half done: every
    /// tombstone then marks a removed vector). Later adds never link to a claimed slot: neighbour
    /// selection skips tombstoned nodes. False when there is nothing to claim.
    /// </summary>
    private bool StartRound()
    {
        _structureLock.EnterWriteLock();
        try
        {
            var storage = _storage;
            int used = _nextSlot;
            var members = new ulong[(used + 63) / 64];
            int count = 0;
            for (int word = 0; word < members.Length; word++)
            {
                ulong bits = storage.Tombstones[word];
                if (word == members.Length - 1 && (used & 63) != 0)
                {
                    bits &= (1UL << used) - 1;
                }

                members[word] = bits;
                count += BitOperations.PopCount(bits);
            }

            foreach (int slot in _freeSlots)
            {
                members[slot >> 6] &= ~(1UL << slot);
                count--;
            }

            if (count == 0)
            {
                return false;
            }

            lock (_allocationLock)
            {
                _claimed = count;
            }

            _round = new RepairRound(members, count, used, new RepairScratch(_m0));
            return true;
        }
        finally
        {
            _structureLock.ExitWriteLock();
        }
    }

    /// <summary>Repairs up to <paramref name="maxNodes"/> slots of the round; at its end, retires the claimed slots.</summary>
    private void RepairSome(RepairRound round, int maxNodes, CancellationToken ct)
    {
        _structureLock.EnterWriteLock();
        try
        {
            var storage = _storage;
            int end = (int)Math.Min((long)round.Cursor + maxNodes, round.Used);
            int slot = round.Cursor;
            for (; slot < end; slot++)
            {
                if ((slot & 255) == 0 && ct.IsCancellationRequested)
                {
                    break;
                }

                // Removed after the round began or not, every node outside the round is repaired: a node
                // deleted later is still traversed, so its lists must not lead to a slot about to be reused.
                if (!round.Claims(slot))
                {
                    RepairNode(storage, slot, round.Scratch);
                }
            }

            round.Cursor = slot;
            if (slot == round.Used)
            {
                ReplaceEntry(storage, round);
                _round = null;

                // New searches read the epoch after the lists were rewritten: none of them can reach the
                // claimed slots. Those that read the old epoch are counted under its parity.
                long before = Interlocked.Increment(ref _epoch) - 1;
                Volatile.Write(ref _retired, new RetiredSlots(round.Members, round.Count, (int)(before & 1)));
            }
        }
        finally
        {
            _structureLock.ExitWriteLock();
        }

        ct.ThrowIfCancellationRequested();
    }

    /// <summary>Moves the entry point off a claimed slot: to the live node of the highest level, or none.</summary>
    private void ReplaceEntry(GraphStorage storage, RepairRound round)
    {
        long entry = storage.Entry;
        if (entry < 0 || !round.Claims(EntrySlot(entry)))
        {
            return;
        }

        int used = _nextSlot;
        int top = -1;
        int topLevel = -1;
        for (int slot = 0; slot < used; slot++)
        {
            if (!storage.IsDeleted(slot) && storage.LevelOf(slot) > topLevel)
            {
                topLevel = storage.LevelOf(slot);
                top = slot;
            }
        }

        Volatile.Write(ref storage.Entry, top < 0 ? -1 : PackEntry(topLevel, top));
    }

    /// <summary>Frees the retired slots once no search that may read them is running (exclusive: adds take free slots).</summary>
    private void FreeRetired(RetiredSlots retired)
    {
        _structureLock.EnterWriteLock();
        try
        {
            var storage = _storage;
            var members = retired.Members;
            for (int word = 0; word < members.Length; word++)
            {
                ulong bits = members[word];
                while (bits != 0)
                {
                    int slot = (word * 64) + BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                    FreeSlot(storage, slot);
                }
            }

            lock (_allocationLock)
            {
                _deleted -= retired.Count;
                _claimed = 0;
            }

            Volatile.Write(ref _retired, null);
        }
        finally
        {
            _structureLock.ExitWriteLock();
        }
    }

    private unsafe void RepairNode(GraphStorage storage, int slot, RepairScratch scratch)
    {
        int levels = storage.LevelOf(slot);
        for (int level = 0; level <= levels; level++)
        {
            int* list = storage.List(slot, level, out int capacity);
            bool touched = false;
            for (int i = 0; i < capacity && list[i] >= 0; i++)
            {
                if (storage.IsDeleted(list[i]))
                {
                    touched = true;
                    break;
                }
            }

            if (!touched)
            {
                continue;
            }

            // Candidates: live links, and live nodes up to two hops through deleted links.
            scratch.Clear();
            for (int i = 0; i < capacity && list[i] >= 0; i++)
            {
                int neighbour = list[i];
                if (!storage.IsDeleted(neighbour))
                {
                    scratch.Add(neighbour);
                    continue;
                }

                int* second = storage.List(neighbour, level, out int secondCapacity);
                for (int j = 0; j < secondCapacity && second[j] >= 0; j++)
                {
                    int hop = second[j];
                    if (!storage.IsDeleted(hop))
                    {
                        scratch.Add(hop);
                        continue;
                    }

                    int* third = storage.List(hop, level, out int thirdCapacity);
                    for (int k = 0; k < thirdCapacity && third[k] >= 0; k++)
                    {
                        if (!storage.IsDeleted(third[k]))
                        {
                            scratch.Add(third[k]);
                        }
                    }
                }
            }

            byte* origin = storage.Vector(slot);
            var keys = scratch.Keys(out int count);
            for (int i = 0; i < count; i++)
            {
                int candidate = (int)keys[i];
                keys[i] = Key.Pack(Dot(origin, storage.Vector(candidate)), candidate);
            }

            var sorted = keys.AsSpan(0, count);
            sorted.Sort();
            sorted.Reverse();
            int kept = SelectNeighbors(storage, sorted, slot, capacity, scratch.Selected, skipDeleted: true);
            StoreList(list, capacity, scratch.Selected.AsSpan(0, kept));
        }
    }

    /// <summary>Clears a deleted slot's links and puts it on the free list; its tombstone stays set until reuse.</summary>
    private void FreeSlot(GraphStorage storage, int slot)
    {
        storage.ClearBaseList(slot);
        storage.Upper.Free(slot);
        _freeSlots.Push(slot);
    }

    /// <summary>A round of repair under way: the claimed slots (a bit set over the slots used when it began) and how far it got.</summary>
    private sealed class RepairRound(ulong[] members, int count, int used, RepairScratch scratch)
    {
        public ulong[] Members { get; } = members;

        public int Count { get; } = count;

        public int Used { get; } = used;

        public RepairScratch Scratch { get; } = scratch;

        public int Cursor { get; set; }

        public bool Claims(int slot) => slot < Used && (Members[slot >> 6] & (1UL << slot)) != 0;
    }

    /// <summary>Slots unlinked from the graph, waiting for the searches of the epoch parity <see cref="Parity"/> to end.</summary>
    private sealed record RetiredSlots(ulong[] Members, int Count, int Parity);

    /// <summary>Candidate set of a repair: a list with linear de-duplication (a few dozen entries).</summary>
    private sealed class RepairScratch(int maxLinks)
    {
        private long[] _keys = new long[maxLinks * 4];
        private int _count;

        public int[] Selected { get; } = new int[maxLinks + 1];

        public void Clear() => _count = 0;

        public void Add(int slot)
        {
            for (int i = 0; i < _count; i++)
            {
                if (_keys[i] == slot)
                {
                    return;
                }
            }

            if (_count == _keys.Length)
            {
                Array.Resize(ref _keys, _keys.Length * 2);
            }

            _keys[_count++] = slot;
        }

        public long[] Keys(out int count)
        {
            count = _count;
            return _keys;
        }
    }
}
