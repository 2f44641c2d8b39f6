using System.Drawing;
using FaceIndex.Core;
using FaceIndex.Vision.Internal;

namespace FaceIndex.Vision;

public sealed partial class FacePipeline
{
    /// <summary>Share of the shorter image side taken as the face box when no face is detected (LFW-style crops).</summary>
    private const float CentreCropShare = 1f / 1.92f;

    /// <summary>
    /// The whole pipeline; with <paramref name="centreCropFallback"/>, an image without a detected
    /// face is treated as one centred face (the evaluation protocol of FaceNet on LFW).
    /// </summary>
    internal async Task<AnalysisResult> AnalyzeCoreAsync(ReadOnlyMemory<byte> image, bool centreCropFallback, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        await _prepareGate.WaitAsync(ct).ConfigureAwait(false);
        PreparedImage result;
        try
        {
            result = Prepare(image.Span, centreCropFallback);
        }
        finally
        {
            _prepareGate.Release();
        }

        var (prepared, usedFallback, _, _) = result;
        if (prepared.Count == 0)
        {
            return new AnalysisResult([], false);
        }

        try
        {
            var aligned = new float[prepared.Count][];
            for (int i = 0; i < prepared.Count; i++)
            {
                aligned[i] = prepared[i].Aligned;
            }

            var embeddings = await EmbedAlignedAsync(aligned, Options.FlipAveraging, ct).ConfigureAwait(false);
            var faces = new DetectedFace[prepared.Count];
            for (int i = 0; i < prepared.Count; i++)
            {
                faces[i] = Finish(prepared[i], embeddings[i]);
            }

            return new AnalysisResult(faces, usedFallback);
        }
        finally
        {
            foreach (var face in prepared)
            {
                face.Release();
            }
        }
    }

    /// <summary>
    /// The batch API of the embedding stage: embeds many aligned faces (tensors of
    /// <see cref="FaceAligner.TensorLength"/> floats) through the shared embedding queue, with their mirror
    /// images when <paramref name="flip"/> is set, and returns one unit 512-D embedding per face.
    /// </summary>
    internal async Task<float[][]> EmbedAlignedAsync(IReadOnlyList<float[]> aligned, bool flip, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        int n = aligned.Count;
        var plain = new Task<float[]>[n];
        var mirrored = flip ? new Task<float[]>[n] : null;
        var mirrors = flip ? new float[n][] : null;
        try
        {
            for (int i = 0; i < n; i++)
            {
                plain[i] = _batcher.EmbedAsync(aligned[i], ct);
                if (flip)
                {
                    mirrors![i] = TensorPool.Rent();
                    FaceAligner.Mirror(aligned[i], mirrors[i]);
                    mirrored![i] = _batcher.EmbedAsync(mirrors[i], ct);
                }
            }

            var results = new float[n][];
            for (int i = 0; i < n; i++)
            {
                results[i] = await plain[i].ConfigureAwait(false);
                if (flip)
                {
                    var mirror = await mirrored![i].ConfigureAwait(false);
                    FaceEmbedder.CombineFlip(results[i], mirror);
                }
            }

            return results;
        }
        finally
        {
            if (mirrors is not null)
            {
                // A buffer goes back only once its embedding is done (or was never queued).
                for (int i = 0; i < n; i++)
                {
                    if (mirrors[i] is { } buffer)
                    {
                        await AwaitQuietly(mirrored![i]).ConfigureAwait(false);
                        TensorPool.Return(buffer);
                    }
                }
            }

            await AwaitAllQuietly(plain).ConfigureAwait(false);
        }
    }

    /// <summary>The CPU stages up to the embedding: decode, detect, landmarks, align. Largest face first.</summary>
    /// <remarks>Each face's aligned tensor is rented; the caller releases it with <see cref="PreparedFace.Release"/>.</remarks>
    internal PreparedImage Prepare(ReadOnlySpan<byte> encoded, bool centreCropFallback, bool dlibChips = false)
    {
        using var image = _decoder.Decode(encoded);
        var detections = _detector.Detect(image);
        bool usedFallback = false;
        if (detections.Count == 0 && centreCropFallback)
        {
            float side = Math.Min(image.Width, image.Height) * CentreCropShare;
            detections.Add(new Detection(new FaceBox((image.Width - side) / 2, (image.Height - side) / 2, side, side), 0f));
            usedFallback = true;
        }

        // Largest first; ties (equal areas) by score, so the order is deterministic.
        detections.Sort((a, b) => a.Box.Area != b.Box.Area ? b.Box.Area.CompareTo(a.Box.Area) : b.Score.CompareTo(a.Score));
        var faces = new List<PreparedFace>(detections.Count);
        foreach (var detection in detections)
        {
            var points = _landmarks.Detect(image, detection.Box);
            var aligned = TensorPool.Rent();
            FaceAligner.Align(image, points, aligned);
            var face = new PreparedFace(detection, points, aligned);
            if (dlibChips)
            {
                face.Chip = new float[DlibChip.TensorLength];
                DlibChip.Align(image, points, _dlibReference, face.Chip);
            }

            faces.Add(face);
        }

        VisionLog.ImageAnalysed(_logger, image.Width, image.Height, faces.Count);
        return new PreparedImage(faces, usedFallback, image.Width, image.Height);
    }

    /// <summary>Projects and quantizes one embedding into the public result.</summary>
    internal DetectedFace Finish(PreparedFace face, float[] embedding512)
    {
        var embedding128 = new float[FaceVector.Dimensions];
        FaceVector vector = default;
        if (_bundle.Projection is { } projection)
        {
            projection.Apply(embedding512, embedding128);
            vector = Quantizer.QuantizeUnit(embedding128);
        }

        return new DetectedFace(face.Detection.Box, face.Detection.Score, face.Points, vector)
        {
            Embedding512 = embedding512,
            Embedding128 = embedding128,
        };
    }

    private static async Task AwaitQuietly(Task? task)
    {
        if (task is null)
        {
            return;
        }

        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The fault reaches the caller from its first await; this only waits for the buffer to be free.
        }
    }

    private static async Task AwaitAllQuietly(Task<float[]>?[] tasks)
    {
        foreach (var task in tasks)
        {
            await AwaitQuietly(task).ConfigureAwait(false);
        }
    }

    /// <summary>A face ready to embed; <see cref="Aligned"/> is a pooled tensor of <see cref="FaceAligner.TensorLength"/> floats.</summary>
    internal sealed class PreparedFace(Detection detection, PointF[] points, float[] aligned)
    {
        private float[]? _aligned = aligned;

        public Detection Detection { get; } = detection;

        public PointF[] Points { get; } = points;

        public float[] Aligned => _aligned ?? throw new ObjectDisposedException(nameof(PreparedFace));

        /// <summary>The face's 150×150 dlib chip (<see cref="DlibChip"/>), when the caller asked for it.</summary>
        public float[]? Chip { get; set; }

        /// <summary>Returns the aligned tensor to the pool.</summary>
        public void Release()
        {
            if (Interlocked.Exchange(ref _aligned, null) is { } buffer)
            {
                TensorPool.Return(buffer);
            }
        }
    }

    /// <summary>The faces of one image ready to embed, whether they came from the centre-crop fallback, and the oriented image size.</summary>
    internal sealed record PreparedImage(List<PreparedFace> Faces, bool UsedFallback, int Width, int Height);

    /// <summary>Faces of one image, and whether they came from the centre-crop fallback.</summary>
    internal sealed record AnalysisResult(IReadOnlyList<DetectedFace> Faces, bool UsedFallback);
}
