using System.CommandLine;
using FaceIndex.Vision;

namespace FaceIndex.Cli.Commands;

/// <summary>The options every face-pipeline verb shares (models folder, bundle, provider, sessions, threads, flip averaging).</summary>
internal sealed class VisionCliOptions
{
    private readonly Option<string> _models = new("--models")
    {
        Description = "Folder holding the ONNX models (default: $FACEINDEX_MODELS or ./models)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FACEINDEX_MODELS") is { Length: > 0 } dir ? dir : "models",
    };

    private readonly Option<string?> _bundle = new("--bundle")
    {
        Description = "Folder holding manifest.json and the projection (default: the bundle built into the binary)",
    };

    private readonly Option<ExecutionProvider> _provider = new("--provider")
    {
        Description = "ONNX Runtime execution provider: Auto (CUDA when it loads, else the CPU), Cpu, Cuda or TensorRt",
        DefaultValueFactory = _ => ExecutionProvider.Auto,
    };

    private readonly Option<int> _maxBatch = new("--max-batch")
    {
        Description = "Faces per inference at most (0 = 8 on the CPU, 64 on a GPU)",
        DefaultValueFactory = _ => 0,
    };

    private readonly Option<double?> _maxWait = new("--max-wait-ms")
    {
        Description = "Milliseconds a face may wait for its batch to fill (default: 0 on the CPU, 2 on a GPU)",
    };

    private readonly Option<int> _sessions = new("--sessions")
    {
        Description = "Parallel model sessions (0 = one per core ÷ threads)",
        DefaultValueFactory = _ => 0,
    };

    private readonly Option<int> _threads = new("--threads")
    {
        Description = "ONNX Runtime intra-op threads per session",
        DefaultValueFactory = _ => 1,
    };

    private readonly Option<float> _minScore = new("--min-score")
    {
        Description = "Smallest detector score (face probability) of a kept face",
        DefaultValueFactory = _ => new VisionOptions().DetectionThreshold,
    };

    private readonly Option<int> _minFace = new("--min-face")
    {
        Description = "Smallest face kept, in pixels of the shorter box side",
        DefaultValueFactory = _ => new VisionOptions().MinFaceSize,
    };

    private readonly Option<bool> _flip = new("--flip")
    {
        Description = "Average the embeddings of each aligned face and its mirror image (twice the embedding cost)",
    };

    private readonly bool _withFlip;

    /// <param name="withFlip">Offer --flip (verbs with their own flip handling, such as eval, leave it out).</param>
    public VisionCliOptions(bool withFlip = true) => _withFlip = withFlip;

    /// <summary>Adds the options to a command.</summary>
    public void AddTo(Command command)
    {
        command.Add(_models);
        command.Add(_bundle);
        command.Add(_provider);
        command.Add(_maxBatch);
        command.Add(_maxWait);
        command.Add(_sessions);
        command.Add(_threads);
        command.Add(_minScore);
        command.Add(_minFace);
        if (_withFlip)
        {
            command.Add(_flip);
        }
    }

    /// <summary>The vision options given on the command line.</summary>
    public VisionOptions Read(ParseResult parse) => new()
    {
        ModelsDirectory = parse.GetValue(_models)!,
        BundleDirectory = parse.GetValue(_bundle),
        Provider = parse.GetValue(_provider),
        MaxBatch = parse.GetValue(_maxBatch),
        MaxWait = parse.GetValue(_maxWait) is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
        Sessions = parse.GetValue(_sessions),
        IntraOpThreads = parse.GetValue(_threads),
        DetectionThreshold = parse.GetValue(_minScore),
        MinFaceSize = parse.GetValue(_minFace),
        FlipAveraging = _withFlip && parse.GetValue(_flip),
    };
}
