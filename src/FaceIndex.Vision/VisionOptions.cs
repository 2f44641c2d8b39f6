namespace FaceIndex.Vision;

/// <summary>
/// Settings of the face pipeline, with documented defaults. The host binds them from configuration
/// (section "Vision"); the library never reads configuration itself.
/// </summary>
/// <remarks>
/// Adding a setting: add the property with its default and a one-line doc here, check it in
/// <see cref="Validate"/>, use it where the stage is built, and mention it in config/appsettings.json.
/// </remarks>
public sealed class VisionOptions
{
    /// <summary>Folder holding fr_detect.onnx, fr_landmark.onnx and fr_feature.onnx. Default "models".</summary>
    public string ModelsDirectory { get; set; } = "models";

    /// <summary>
    /// Folder holding manifest.json and the projection artifact; null (the default) uses the bundle
    /// embedded in the FaceIndex.Vision assembly (a copy of model-bundle/ taken at build time).
    /// </summary>
    public string? BundleDirectory { get; set; }

    /// <summary>
    /// ONNX Runtime execution provider: <see cref="ExecutionProvider.Auto"/> (default: CUDA when its libraries
    /// load and a device is present, else the CPU), <see cref="ExecutionProvider.Cpu"/>, <see cref="ExecutionProvider.Cuda"/>
    /// or <see cref="ExecutionProvider.TensorRt"/> (the last two fail the start when they cannot run).
    /// </summary>
    public ExecutionProvider Provider { get; set; } = ExecutionProvider.Auto;

    /// <summary>The CUDA device the GPU providers use. Default 0.</summary>
    public int DeviceId { get; set; }

    /// <summary>
    /// Faces per inference at most, gathered from all concurrent requests by each model's dynamic batcher.
    /// 0 (default) = <see cref="CpuMaxBatch"/> on the CPU, <see cref="GpuMaxBatch"/> on a GPU.
    /// </summary>
    public int MaxBatch { get; set; }

    /// <summary>
    /// How long a face may wait for its batch to fill; null (default) = 0 on the CPU (a batch takes only
    /// what is already queued: batching gains nothing there), <see cref="GpuMaxWait"/> on a GPU.
    /// </summary>
    public TimeSpan? MaxWait { get; set; }

    /// <summary>Intra-op threads of each ONNX Runtime session. Default 1 (parallelism comes from concurrent runs, see <see cref="Sessions"/>).</summary>
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>
    /// Whether ONNX Runtime's intra-op threads spin while waiting for work (lower latency on idle
    /// cores, wasted CPU on busy ones). Only matters with <see cref="IntraOpThreads"/> over 1. Default false.
    /// </summary>
    public bool IntraOpSpinning { get; set; }

    /// <summary>Parallel runs per model (workers), i.e. faces embedded at once. 0 (default) = processor count ÷ intra-op threads.</summary>
    public int Sessions { get; set; }

    /// <summary>
    /// Whether the <see cref="Sessions"/> parallel runs of a model share one ONNX Runtime session
    /// (one copy of the weights; Run is thread-safe) instead of one session each. Default true.
    /// </summary>
    public bool ShareSessions { get; set; } = true;

    /// <summary>ONNX Runtime graph optimisation level. Default <see cref="GraphOptimization.All"/>.</summary>
    public GraphOptimization GraphOptimization { get; set; } = GraphOptimization.All;

    /// <summary>Minimum detector score (face probability) of a kept face. Default 0.6.</summary>
    public float DetectionThreshold { get; set; } = 0.6f;

    /// <summary>Boxes overlapping a better-scored box by more than this IoU are dropped. Default 0.4.</summary>
    public float NmsIouThreshold { get; set; } = 0.4f;

    /// <summary>Smallest face kept, in pixels of the shorter box side; also the smallest image side accepted. Default 20.</summary>
    public int MinFaceSize { get; set; } = 20;

    /// <summary>Largest image accepted, in pixels (width × height), checked from the header before decoding. Default 40 M.</summary>
    public long MaxPixels { get; set; } = 40_000_000;

    /// <summary>Embed each aligned face and its mirror image and average the two (twice the embedding cost). Default false.</summary>
    public bool FlipAveraging { get; set; }

    /// <summary>
    /// JPEG quality of the aligned 112×112 face crop kept in <see cref="DetectedFace.Thumbnail"/>; 0 (default)
    /// makes none. A thumbnail is a picture of a person's face: personal data wherever it is kept.
    /// </summary>
    public int ThumbnailQuality { get; set; }

    /// <summary>Checks every setting; the message names the setting to fix.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        Require(!string.IsNullOrWhiteSpace(ModelsDirectory), nameof(ModelsDirectory), "must name a folder");
        Require(BundleDirectory is null || BundleDirectory.Length > 0, nameof(BundleDirectory), "must be null or name a folder");
        Require(Enum.IsDefined(Provider), nameof(Provider), "must be Auto, Cpu, Cuda or TensorRt");
        Require(DeviceId is >= 0 and <= 64, nameof(DeviceId), "must lie in [0, 64]");
        Require(MaxBatch is >= 0 and <= 1024, nameof(MaxBatch), "must lie in [0, 1024] (0 = automatic)");
        Require(MaxWait is null || (MaxWait >= TimeSpan.Zero && MaxWait <= TimeSpan.FromSeconds(1)), nameof(MaxWait), "must lie in [0, 1 s]");
        Require(IntraOpThreads is >= 1 and <= 256, nameof(IntraOpThreads), "must lie in [1, 256]");
        Require(Sessions is >= 0 and <= 256, nameof(Sessions), "must lie in [0, 256] (0 = automatic)");
        Require(Enum.IsDefined(GraphOptimization), nameof(GraphOptimization), "must be None, Basic, Extended or All");
        Require(DetectionThreshold is > 0f and < 1f, nameof(DetectionThreshold), "must lie in (0, 1)");
        Require(NmsIouThreshold is > 0f and <= 1f, nameof(NmsIouThreshold), "must lie in (0, 1]");
        Require(MinFaceSize is >= 1 and <= 4096, nameof(MinFaceSize), "must lie in [1, 4096]");
        Require(MaxPixels >= 1024, nameof(MaxPixels), "must be at least 1024");
        Require(ThumbnailQuality is >= 0 and <= 100, nameof(ThumbnailQuality), "must lie in [0, 100] (0 = no thumbnails)");
    }

    /// <summary>
    /// Default <see cref="MaxBatch"/> on the CPU: 1. Measured (bench/README.md, "vision throughput"): the
    /// embedding model costs the same or up to 10–30 % more CPU per face in batches of 4–32 than one at a time,
    /// so on the CPU parallelism comes from concurrent single-face runs.
    /// </summary>
    public const int CpuMaxBatch = 1;

    /// <summary>Default <see cref="MaxBatch"/> on a GPU.</summary>
    public const int GpuMaxBatch = 64;

    /// <summary>Default <see cref="MaxWait"/> on a GPU.</summary>
    public static readonly TimeSpan GpuMaxWait = TimeSpan.FromMilliseconds(2);

    /// <summary>Default number of parallel runs per model on a GPU: two, so that one batch is copied while the other computes.</summary>
    public const int GpuSessions = 2;

    /// <summary>The session count actually used on the CPU: <see cref="Sessions"/>, or processor count ÷ intra-op threads.</summary>
    internal int EffectiveSessions => Sessions > 0 ? Sessions : Math.Max(1, Environment.ProcessorCount / IntraOpThreads);

    /// <summary>The session count actually used on the provider.</summary>
    internal int SessionsFor(ExecutionProvider provider) => Sessions > 0 || provider == ExecutionProvider.Cpu ? EffectiveSessions : GpuSessions;

    /// <summary>The batch limit actually used on the provider.</summary>
    internal int EffectiveMaxBatch(ExecutionProvider provider) => MaxBatch > 0 ? MaxBatch : provider == ExecutionProvider.Cpu ? CpuMaxBatch : GpuMaxBatch;

    /// <summary>The batch wait actually used on the provider.</summary>
    internal TimeSpan EffectiveMaxWait(ExecutionProvider provider) => MaxWait ?? (provider == ExecutionProvider.Cpu ? TimeSpan.Zero : GpuMaxWait);

    private static void Require(bool condition, string name, string rule)
    {
        if (!condition)
        {
            throw new ArgumentException($"Vision:{name} {rule}.", name);
        }
    }
}

/// <summary>Where ONNX Runtime runs the models.</summary>
public enum ExecutionProvider
{
    /// <summary>The CPU execution provider (always available).</summary>
    Cpu,

    /// <summary>NVIDIA CUDA (CUDA 13 and cuDNN 9 libraries, a device); a start-up error when it cannot run.</summary>
    Cuda,

    /// <summary>NVIDIA TensorRT 10 over CUDA; a start-up error when it cannot run.</summary>
    TensorRt,

    /// <summary>CUDA when its libraries load and a device is present, else the CPU; the start-up log says which and why.</summary>
    Auto,
}

/// <summary>ONNX Runtime graph optimisation level.</summary>
public enum GraphOptimization
{
    /// <summary>No graph optimisation.</summary>
    None,

    /// <summary>Basic (constant folding, redundant node removal).</summary>
    Basic,

    /// <summary>Extended (node fusions).</summary>
    Extended,

    /// <summary>All optimisations, including layout transforms.</summary>
    All,
}
