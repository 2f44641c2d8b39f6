using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FaceIndex.Index.Internal;

/// <summary>
/// A pinned, uninitialised block of memory with a stable, 64-byte aligned address (a vector then
/// spans exactly two cache lines): a managed array, so the GC frees it once nothing references it.
/// Nothing touches the pages of the block until they are written, so slots not yet used are not
/// resident.
/// </summary>
internal sealed unsafe class PinnedBlock
{
    private const int Alignment = 64;

    private readonly long[] _array;

    public PinnedBlock(long bytes)
    {
        _array = GC.AllocateUninitializedArray<long>(checked((int)((bytes + Alignment) / sizeof(long)) + 1), pinned: true);
        var start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
        Pointer = (byte*)(((nint)start + (Alignment - 1)) & ~(nint)(Alignment - 1));
        Bytes = bytes;
    }

    /// <summary>Start of the block.</summary>
    public byte* Pointer { get; }

    /// <summary>Size of the block.</summary>
    public long Bytes { get; }
}
