using FaceIndex.Core;
using FaceIndex.Vision.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceIndex.Vision;

/// <summary>
/// Image → faces → 128-byte codes: decode (EXIF-oriented), detect every face, 68 landmarks → 5
/// points, least-squares similarity alignment to 112×112, embed (ONNX Runtime; the faces of all
/// concurrent callers are gathered into batches by one dynamic batcher), L2-normalise, project
/// 512 → 128, re-normalise and quantize.
/// Thread-safe: one instance serves the whole process.
/// </summary>
public sealed partial class FacePipeline : IDisposable, IAsyncDisposable
{
    private readonly ModelBundle _bundle;
    private readonly ImageDecoder _decoder;
    private readonly FaceDetector _detector;
    private readonly LandmarkDetector _landmarks;
    private readonly FaceEmbedder _embedder;
    private readonly ILogger _logger;

    /// <summary>
    /// Images in the CPU stages (decode, detect, landmarks, align) at once: one per core. More would
    /// not go faster, and each holds its decoded pixels (a 40-megapixel image is 160 MB of RGBA), so
    /// requests beyond it wait their turn asynchronously instead of piling up pixel buffers.
    /// </summary>
    private readonly SemaphoreSlim _prepareGate = new(Math.Max(2, Environment.ProcessorCount));
    private int _disposed;

    private FacePipeline(VisionOptions options, ModelBundle bundle, ProviderPlan plan, ILogger logger)
    {
        _bundle = bundle;
        _logger = logger;
        _decoder = new ImageDecoder(options.MaxPixels, options.MinFaceSize);
        var models = bundle.Manifest.Models;
        _detector = new FaceDetector(bundle.Source(models.Detector), options, plan);
        try
        {
            _landmarks = new LandmarkDetector(bundle.Source(models.Landmarks), options, plan);
            try
            {
                _embedder = new FaceEmbedder(bundle.Source(models.Embedder), options, plan, logger);
            }
            catch
            {
                _landmarks.Dispose();
                throw;
            }
        }
        catch
        {
            _detector.Dispose();
            throw;
        }

        Options = options;
        ProviderReason = plan.Reason;
    }

    /// <summary>
    /// The execution provider the embedding model runs on (<see cref="ExecutionProvider.Cpu"/>,
    /// <see cref="ExecutionProvider.Cuda"/> or <see cref="ExecutionProvider.TensorRt"/>; never Auto):
    /// what Stats and the metrics report.
    /// </summary>
    public ExecutionProvider ExecutionProvider => _embedder.Provider;

    /// <summary>Which provider each model got and why, as logged at start, e.g. "detector Cpu, landmarks Cpu, embedder Cpu (auto: CUDA unavailable: libcudart.so.13 not found)".</summary>
    public string ProviderSummary
    {
        get
        {
            var fallbacks = new[] { ("detector", _detector.FallbackReason), ("landmarks", _landmarks.FallbackReason), ("embedder", _embedder.FallbackReason) }
                .Where(f => f.Item2 is not null)
                .Select(f => $"; {f.Item1} on Cpu: {f.Item2}");
            return $"detector {_detector.Provider}, landmarks {_landmarks.Provider}, embedder {_embedder.Provider} ({ProviderReason}{string.Concat(fallbacks)})";
        }
    }

    /// <summary>Why the provider was chosen (the plan's reason).</summary>
    private string ProviderReason { get; }

    /// <summary>The model-version tag that every vector from this pipeline carries (e.g. "fr512-pca128-v1").</summary>
    public string ModelVersion => _bundle.Manifest.ModelVersion;

    /// <summary>
    /// The model's default verification threshold: two codes from this pipeline show the same person
    /// when their squared L2 distance (<see cref="Similarity.Distance"/>) is at most this value.
    /// Recorded in the bundle's manifest, chosen with the LFW-protocol evaluator on the development set
    /// named by <see cref="DefaultThresholdSource"/>; servers use it as their default match threshold.
    /// </summary>
    public float DefaultThreshold => _bundle.Manifest.Verification.DefaultThreshold;

    /// <summary>The development pair list <see cref="DefaultThreshold"/> was chosen on.</summary>
    public string DefaultThresholdSource => _bundle.Manifest.Verification.ChosenOn;

    /// <summary>
    /// The model's default open-set search threshold: a candidate matches when its squared L2 distance is at
    /// most this value. Stricter than <see cref="DefaultThreshold"/>, which balances errors for one-to-one
    /// verification: it is chosen at a false-accept rate of <see cref="IdentificationFar"/> per comparison, because a
    /// search compares the face with every enrolled face. Large galleries need a lower one.
    /// </summary>
    public float IdentificationThreshold => _bundle.Manifest.Identification.Threshold;

    /// <summary>The false-accept rate per comparison <see cref="IdentificationThreshold"/> was chosen at.</summary>
    public double IdentificationFar => _bundle.Manifest.Identification.Far;

    /// <summary>The options the pipeline was built with.</summary>
    public VisionOptions Options { get; }

    /// <summary>
    /// Identifies everything that determines the 512-D embeddings (the Vision assembly build, which
    /// embeds the bundle, the detector settings and the execution provider): the evaluator's embedding cache is keyed by it.
    /// </summary>
    public string CacheFingerprint =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{ModelVersion}|{typeof(FacePipeline).Module.ModuleVersionId:N}|{Options.DetectionThreshold}|{Options.NmsIouThreshold}|{Options.MinFaceSize}|{ExecutionProvider}");

    /// <summary>The projection of the model's embedding to 128-D (null only for a pipeline built to fit one).</summary>
    public Projection? Projection => _bundle.Projection;

    internal ImageDecoder Decoder => _decoder;

    internal FaceDetector Detector => _detector;

    internal LandmarkDetector Landmarks => _landmarks;

    internal FaceEmbedder Embedder => _embedder;

    /// <summary>
    /// Verifies the models in <paramref name="modelsDirectory"/> against the bundle's manifest and writes the
    /// dynamic-batch rewrites the manifest names next to them (nothing when they are there with their pinned
    /// SHA-256). Returns the rewrites' paths. The pipeline does the same on load; <c>faceindex models fetch</c> calls it eagerly.
    /// </summary>
    /// <exception cref="FaceIndexException">ModelMissing: a model is absent or corrupt, or a rewrite does not give its pinned bytes.</exception>
    public static IReadOnlyList<string> DeriveModels(string modelsDirectory, string? bundleDirectory = null)
    {
        var bundle = ModelBundle.Load(modelsDirectory, bundleDirectory, requireProjection: false);
        var models = bundle.Manifest.Models;
        return [.. new[] { models.Detector, models.Landmarks, models.Embedder }
            .Where(e => e.DynamicBatch is not null)
            .Select(e => Path.Combine(modelsDirectory, e.DynamicBatch!.File))];
    }

    /// <summary>Validates the options, verifies the model bundle and loads the models.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="FaceIndexException">ModelMissing (a file is absent or corrupt) or ProviderUnavailable.</exception>
    public static FacePipeline Create(VisionOptions options, ILoggerFactory? loggerFactory = null) =>
        Create(options, loggerFactory, requireProjection: true);

    /// <summary>As <see cref="Create(VisionOptions, ILoggerFactory?)"/>; <paramref name="requireProjection"/> false builds a pipeline without a projection, for fitting one.</summary>
    /// <param name="options">Pipeline settings.</param>
    /// <param name="loggerFactory">Logging; null for none.</param>
    /// <param name="requireProjection">False when the projection is to be fitted (its raw embeddings are all that is used).</param>
    public static FacePipeline Create(VisionOptions options, ILoggerFactory? loggerFactory, bool requireProjection)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var bundle = ModelBundle.Load(options.ModelsDirectory, options.BundleDirectory, requireProjection);
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<FacePipeline>();
        var plan = ProviderPlan.Resolve(options.Provider);
        var pipeline = new FacePipeline(options, bundle, plan, logger);
        var provider = pipeline.ExecutionProvider;
        string summary = pipeline.ProviderSummary;
        int sessions = options.SessionsFor(provider), maxBatch = options.EffectiveMaxBatch(provider);
        double maxWaitMs = options.EffectiveMaxWait(provider).TotalMilliseconds;
        VisionLog.PipelineReady(logger, pipeline.ModelVersion, summary, sessions, options.IntraOpThreads, maxBatch, maxWaitMs, options.FlipAveraging);
        return pipeline;
    }

    /// <summary>
    /// Finds every face in the image and computes its code. Faces are sorted by box area, largest
    /// first; an image without a face gives an empty list.
    /// </summary>
    /// <exception cref="FaceIndexException">ImageUnreadable, ImageTruncated, ImageTooLarge or ImageTooSmall.</exception>
    public async Task<IReadOnlyList<DetectedFace>> AnalyzeAsync(ReadOnlyMemory<byte> image, CancellationToken ct = default)
    {
        var result = await AnalyzeCoreAsync(image, centreCropFallback: false, ct).ConfigureAwait(false);
        return result.Faces;
    }

    /// <summary>
    /// The face of an image where exactly one is required (enrolment of a person, verification):
    /// the largest face, or with <see cref="FaceSelection.ExactlyOne"/> the only one.
    /// </summary>
    /// <exception cref="FaceIndexException">
    /// NoFace when none is found; MultipleFaces under <see cref="FaceSelection.ExactlyOne"/> when several are;
    /// ImageUnreadable, ImageTruncated, ImageTooLarge or ImageTooSmall as for <see cref="AnalyzeAsync"/>.
    /// </exception>
    public async Task<DetectedFace> AnalyzeOneAsync(ReadOnlyMemory<byte> image, FaceSelection selection = FaceSelection.Largest, CancellationToken ct = default)
    {
        var faces = await AnalyzeAsync(image, ct).ConfigureAwait(false);
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
    /// Embeds the faces already queued, then releases the ONNX Runtime sessions. Calls made after
    /// disposal fail with <see cref="ObjectDisposedException"/>; dispose once callers have stopped.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _embedder.DisposeAsync().AsTask().GetAwaiter().GetResult();
            DisposeSessions();
        }
    }

    /// <summary>
    /// Embeds the faces already queued, then releases the ONNX Runtime sessions. Calls made after
    /// disposal fail with <see cref="ObjectDisposedException"/>; dispose once callers have stopped.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _embedder.DisposeAsync().ConfigureAwait(false);
            DisposeSessions();
        }
    }

    private void DisposeSessions()
    {
        _prepareGate.Dispose();
        _detector.Dispose();
        _landmarks.Dispose();
    }
}
