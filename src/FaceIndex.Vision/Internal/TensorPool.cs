using System.Collections.Concurrent;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// Reusable aligned-face tensors (<see cref="FaceAligner.TensorLength"/> floats, 147 KB: each would
/// otherwise be a large-object-heap allocation). Exact-size buffers in a lock-free queue, so a buffer
/// rented on one thread and returned on another (the batcher's) is reused, which the shared
/// ArrayPool's per-thread caches did poorly (≈ 100 KB allocated per image with two workers).
/// </summary>
internal static class TensorPool
{
    /// <summary>Buffers kept at most; more are left to the GC.</summary>
    private const int MaxRetained = 64;

    private static readonly ConcurrentQueue<float[]> s_free = new();
    private static int s_retained;

    /// <summary>A buffer of exactly <see cref="FaceAligner.TensorLength"/> floats (contents undefined).</summary>
    public static float[] Rent()
    {
        if (s_free.TryDequeue(out var buffer))
        {
            Interlocked.Decrement(ref s_retained);
            return buffer;
        }

        return new float[FaceAligner.TensorLength];
    }

    /// <summary>Gives a buffer back; the caller must not touch it afterwards.</summary>
    public static void Return(float[] buffer)
    {
        if (buffer.Length == FaceAligner.TensorLength && Interlocked.Increment(ref s_retained) <= MaxRetained)
        {
            s_free.Enqueue(buffer);
            return;
        }

        Interlocked.Decrement(ref s_retained);
    }
}
