using System.Buffers;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// The pool of decoded-pixel buffers (RGBA from the codec, RGB for the pipeline: megabytes each).
/// Not the shared ArrayPool: that keeps a buffer per size class in every thread that returned one,
/// plus eight per core, and never trims them while memory is plentiful. With photographs of
/// varying size on a server's many threads it held over 1 GiB of pixel buffers after a few minutes
/// of load (the soak benchmark's memory grew from 250 MiB to 1.9 GiB). This pool keeps at most
/// <see cref="BuffersPerSize"/> buffers per power-of-two size up to <see cref="MaxPooledBytes"/>;
/// larger images get buffers of their own that the GC reclaims.
/// </summary>
internal static class ImageBuffers
{
    /// <summary>The largest buffer kept for reuse: RGBA of 8 megapixels.</summary>
    public const int MaxPooledBytes = 32 << 20;

    /// <summary>Buffers kept per size class: one per core decodes at a time.</summary>
    public static readonly int BuffersPerSize = Math.Max(2, Environment.ProcessorCount);

    public static ArrayPool<byte> Pool { get; } = ArrayPool<byte>.Create(MaxPooledBytes, BuffersPerSize);
}
