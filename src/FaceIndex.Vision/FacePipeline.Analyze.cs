using System.Drawing;
using FaceIndex.Core;
using FaceIndex.Vision.Internal;

namespace FaceIndex.Vision;

public sealed partial class FacePipeline
{
    /// <summary>Share of the shorter image side taken as the face box when no face is detected (LFW-style crops).</summary>
    private const float CentreCropShare = 1f / 1.92f;

    /// <summary>
    /// Shorter side, in decoded pixels, that an image is decoded at for detection: the detector sees
    /// 320×240, and twice that keeps its box-averaged input as sharp as from the full image.
    /// </summary>
    internal const int DetectionSide = 480;

    /// <summary>
    /// Shorter box side, in decoded pixels, that landmarks and alignment need: at least the 112-pixel
    /// aligned frame (the box spans about 100 of its pixels), so no face is enlarged from a reduced decode.
    /// </summary>
    internal const int FaceSide = 128;

    /// <summary>The shorter side decoded for detection: <see cref="DetectionSide"/>, or 0 (full-size decoding) for comparisons in tests and benchmarks.</summary>
    internal int DetectionDecodeSide { get; set; } = DetectionSide;

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

            float[][] embeddings;
            using (var stage = VisionTelemetry.Start("embed"))
            {
                stage.Activity?.SetTag("faceindex.faces", aligned.Length);
                embeddings = await EmbedAlignedAsync(aligned, Options.FlipAveraging, ct).ConfigureAwait(false);
            }

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
                plain[i] = EmbedOneAsync(aligned[i], ct);
                if (flip)
                {
                    mirrors![i] = TensorPool.Rent();
                    FaceAligner.Mirror(aligned[i], mirrors[i]);
                    mirrored![i] = EmbedOneAsync(mirrors[i], ct);
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

    /// <summary>One face through the embedder's dynamic batcher: its unit 512-D embedding.</summary>
    private async Task<float[]> EmbedOneAsync(float[] aligned, CancellationToken ct)
    {
        var embedding = new float[FaceEmbedder.Dimensions];
        await _embedder.EmbedAsync(aligned, embedding, ct).ConfigureAwait(false);
        return embedding;
    }

    /// <summary>The CPU stages up to the embedding: decode, detect, landmarks, align. Largest face first.</summary>
    /// <remarks>
    /// A large JPEG is decoded at a reduced scale for detection (shorter side ≥ <see cref="DetectionSide"/>);
    /// when a face is too small there for a <see cref="FaceSide"/>-pixel box, the image is decoded again at
    /// the scale that gives its smallest face that many pixels (the full size at most). Boxes and points are
    /// in full-size pixels either way. Each face's aligned tensor is rented; the caller releases it with
    /// <see cref="PreparedFace.Release"/>.
    /// </remarks>
    internal PreparedImage Prepare(ReadOnlySpan<byte> encoded, bool centreCropFallback)
    {
        RgbImage image;
        using (VisionTelemetry.Start("decode"))
        {
            image = _decoder.Decode(encoded, DetectionDecodeSide);
        }

        try
        {
            List<Detection> detections;
            using (var stage = VisionTelemetry.Start("detect"))
            {
                detections = _detector.Detect(image);
                stage.Activity?.SetTag("faceindex.faces", detections.Count);
            }

            bool usedFallback = false;
            if (detections.Count == 0 && centreCropFallback)
            {
                float side = Math.Min(image.FullWidth, image.FullHeight) * CentreCropShare;
                detections.Add(new Detection(new FaceBox((image.FullWidth - side) / 2, (image.FullHeight - side) / 2, side, side), 0f));
                usedFallback = true;
            }

            // Largest first; ties (equal areas) by score, so the order is deterministic.
            detections.Sort((a, b) => a.Box.Area != b.Box.Area ? b.Box.Area.CompareTo(a.Box.Area) : b.Score.CompareTo(a.Score));
            if (detections.Count > 0 && image.Scale < 1f)
            {
                float smallest = Math.Max(1f, Math.Min(detections[^1].Box.Width, detections[^1].Box.Height));
                foreach (var detection in detections)
                {
                    smallest = Math.Min(smallest, Math.Max(1f, Math.Min(detection.Box.Width, detection.Box.Height)));
                }

                if (smallest * image.Scale < FaceSide)
                {
                    int shorter = Math.Min(image.FullWidth, image.FullHeight);
                    var sharper = _decoder.Decode(encoded, (int)MathF.Ceiling(shorter * Math.Min(1f, FaceSide / smallest)));
                    image.Dispose();
                    image = sharper;
                }
            }

            var boxes = new FaceBox[detections.Count];
            for (int i = 0; i < boxes.Length; i++)
            {
                boxes[i] = detections[i].Box;
            }

            using var align = VisionTelemetry.Start("align");
            var points = _landmarks.DetectAll(image, boxes);
            var faces = new List<PreparedFace>(detections.Count);
            for (int i = 0; i < detections.Count; i++)
            {
                var aligned = TensorPool.Rent();
                FaceAligner.Align(image, points[i], aligned);
                faces.Add(new PreparedFace(detections[i], points[i], aligned));
            }

            VisionLog.ImageAnalysed(_logger, image.FullWidth, image.FullHeight, faces.Count);
            return new PreparedImage(faces, usedFallback, image.FullWidth, image.FullHeight);
        }
        finally
        {
            image.Dispose();
        }
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
            Thumbnail = Options.ThumbnailQuality > 0 ? ThumbnailEncoder.Encode(face.Aligned, Options.ThumbnailQuality) : null,
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
