using System.CommandLine;
using System.Globalization;
using FaceIndex.Cli.Evaluation;
using FaceIndex.Vision;
using Spectre.Console;

namespace FaceIndex.Cli.Commands;

/// <summary>
/// <c>faceindex models fit-fusion DIR</c>: the z-normalisation of the fused model. Embeds every image of
/// a folder of identities (<c>Name/Name_NNNN.jpg</c>) with both embedders and prints, for each, the mean
/// and standard deviation of the int8 codes' cosines between images of different identities, as the
/// "fusion" object of model-bundle/models.json. Fitted on lfw-disjoint, disjoint from celeba-dev where
/// the fused model is evaluated.
/// </summary>
internal static class FusionFitCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var images = new Argument<string>("IMAGES") { Description = "Folder of face images in one folder per identity, e.g. ../shared/faces/lfw-disjoint" };
        var cache = new Option<string>("--cache") { Description = "Folder of the embedding cache", DefaultValueFactory = _ => ".cache/eval" };
        var vision = new VisionCliOptions();
        var fit = new Command("fit-fusion", "Fit the fused model's z-normalisation: impostor cosine mean and deviation of each embedder's int8 code on a folder of identities.");
        fit.Add(images);
        fit.Add(cache);
        vision.AddTo(fit);
        fit.SetAction((parse, ct) => CliErrors.RunAsync(console, async () =>
        {
            var options = vision.Read(parse);
            options.FlipAveraging = false;
            await using var pipeline = FacePipeline.Create(options);
            var fused = pipeline.Registry.Models.FirstOrDefault(m => m.Fusion is not null)
                ?? throw new ArgumentException("The registry has no fused model.");
            var files = ImageFiles.Find(parse.GetValue(images)!);
            var fr = await ProgressRunner.EmbedAllAsync(console, new EvalEmbedder(pipeline, parse.GetValue(cache), mirror: false), files, showProgress: true, ct).ConfigureAwait(false);
            var dlib = await ProgressRunner.EmbedAllAsync(console, new EvalEmbedder(pipeline, parse.GetValue(cache), mirror: false, EmbedderKind.Dlib128), files, showProgress: true, ct).ConfigureAwait(false);
            var scorer = new ModelScorer(fused, pipeline.Projection!, fr, dlib, flip: false);
            var (m1, s1, n) = scorer.ImpostorStatistics(EmbedderKind.Fr512, files);
            var (m2, s2, _) = scorer.ImpostorStatistics(EmbedderKind.Dlib128, files);
            var inv = CultureInfo.InvariantCulture;
            console.WriteLine(string.Create(inv, $"{files.Count} images, {n} different-identity pairs"));
            console.WriteLine(string.Create(inv, $"\"fusion\": {{ \"primaryMean\": {m1:F4}, \"primaryStd\": {s1:F4}, \"secondaryMean\": {m2:F4}, \"secondaryStd\": {s2:F4}, \"secondaryWeight\": 0.5 }}"));
            return 0;
        }));
        return fit;
    }
}
