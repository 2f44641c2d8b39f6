using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FaceIndex.Core;
using FaceIndex.Vision;
using Spectre.Console;

namespace FaceIndex.Cli.Commands;

/// <summary><c>faceindex verify A B</c>: the distance between the largest faces of two images and the same/different decision.</summary>
internal static class VerifyCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var first = new Argument<string>("A") { Description = "First image" };
        var second = new Argument<string>("B") { Description = "Second image" };
        var threshold = new Option<float?>("--threshold") { Description = "Squared L2 distance at or under which the faces are the same person (default: the model bundle's threshold)" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var vision = new VisionCliOptions();
        var verify = new Command("verify", "Compare the largest face of two images: squared L2 distance between their 128-byte codes, cosine, and same/different at the threshold.");
        verify.Add(first);
        verify.Add(second);
        verify.Add(threshold);
        verify.Add(json);
        vision.AddTo(verify);
        verify.SetAction((parse, ct) => CliErrors.RunAsync(console, async () =>
        {
            await using var pipeline = FacePipeline.Create(vision.Read(parse));
            float limit = parse.GetValue(threshold) ?? pipeline.DefaultThreshold;
            if (limit is not (>= 0f and <= 4f))
            {
                throw new ArgumentException("--threshold is a squared L2 distance between unit vectors: it must lie in [0, 4].");
            }

            var a = await FaceOfAsync(pipeline, parse.GetValue(first)!, ct).ConfigureAwait(false);
            var b = await FaceOfAsync(pipeline, parse.GetValue(second)!, ct).ConfigureAwait(false);
            int dot = a.Vector.Dot(b.Vector);
            float distance = Similarity.DistanceFromDot(dot);
            bool same = distance <= limit;
            var inv = CultureInfo.InvariantCulture;
            if (parse.GetValue(json))
            {
                using var buffer = new MemoryStream();
                using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
                {
                    w.WriteStartObject();
                    w.WriteNumber("distance", distance);
                    w.WriteNumber("cosine", Similarity.CosineFromDot(dot));
                    w.WriteNumber("threshold", limit);
                    w.WriteBoolean("same", same);
                    w.WriteString("modelVersion", pipeline.ModelVersion);
                    w.WriteEndObject();
                }

                console.Profile.Out.Writer.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
            }
            else
            {
                console.WriteLine(string.Create(inv, $"distance {distance:F4} (squared L2; cosine {Similarity.CosineFromDot(dot):F4}), threshold {limit:F4}"));
                console.MarkupLine(same ? "[green]same person[/]" : "[yellow]different people[/]");
            }

            return 0;
        }));
        return verify;
    }

    private static async Task<DetectedFace> FaceOfAsync(FacePipeline pipeline, string path, CancellationToken ct)
    {
        var bytes = await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
        try
        {
            return await pipeline.AnalyzeOneAsync(bytes, FaceSelection.Largest, ct).ConfigureAwait(false);
        }
        catch (FaceIndexException ex)
        {
            throw new FaceIndexException(ex.Error, $"{path}: {ex.Message}", ex);
        }
    }
}
