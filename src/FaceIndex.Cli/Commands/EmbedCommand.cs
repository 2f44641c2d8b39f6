using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FaceIndex.Core;
using FaceIndex.Vision;
using Spectre.Console;

namespace FaceIndex.Cli.Commands;

/// <summary><c>faceindex embed IMAGE…</c>: every face of each image with its box, score, landmarks and 128-byte code (base64).</summary>
internal static class EmbedCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var images = new Argument<string[]>("IMAGE") { Description = "Image files (JPEG, PNG, WebP, BMP, GIF)", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print JSON: one object per image with its faces (box, score, landmarks, vector)" };
        var attributes = new Option<bool>("--attributes") { Description = "Also estimate each face's age, gender and expression with the model package's models (no accuracy claimed)" };
        var vision = new VisionCliOptions();
        var embed = new Command("embed", "Find every face in each image and print its box, detector score and 128-byte code (base64), largest face first.");
        embed.Add(images);
        embed.Add(json);
        embed.Add(attributes);
        vision.AddTo(embed);
        embed.SetAction((parse, ct) => CliErrors.RunAsync(console, async () =>
        {
            await using var pipeline = FacePipeline.Create(vision.Read(parse));
            var results = new List<ImageResult>();
            foreach (var path in parse.GetValue(images)!)
            {
                results.Add(await AnalyzeAsync(pipeline, path, parse.GetValue(attributes), ct).ConfigureAwait(false));
            }

            if (parse.GetValue(json))
            {
                WriteJson(console, pipeline.ModelVersion, results);
            }
            else
            {
                WriteText(console, pipeline.ModelVersion, results);
            }

            return results.Exists(r => r.Error is not null) ? CliErrors.ExitError : 0;
        }));
        return embed;
    }

    private static async Task<ImageResult> AnalyzeAsync(FacePipeline pipeline, string path, bool attributes, CancellationToken ct)
    {
        try
        {
            var bytes = await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
            return new ImageResult(path, await pipeline.AnalyzeAsync(bytes, attributes, ct).ConfigureAwait(false), null);
        }
        catch (FaceIndexException ex)
        {
            return new ImageResult(path, [], (ex.Error.ToString(), ex.Message));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new ImageResult(path, [], ("ImageUnreadable", ex.Message));
        }
    }

    private static void WriteText(IAnsiConsole console, string modelVersion, List<ImageResult> results)
    {
        var inv = CultureInfo.InvariantCulture;
        foreach (var r in results)
        {
            if (r.Error is { } error)
            {
                console.MarkupLineInterpolated(inv, $"[bold]{r.Path}[/]: [red]error ({error.Code}):[/] {error.Message}");
                continue;
            }

            console.MarkupLineInterpolated(inv, $"[bold]{r.Path}[/]: {r.Faces.Count} face(s), model {modelVersion}");

            // Face lines go straight to the output so that a code is never wrapped at the console width.
            var output = console.Profile.Out.Writer;
            for (int i = 0; i < r.Faces.Count; i++)
            {
                var f = r.Faces[i];
                var q = f.Quality;
                output.WriteLine(string.Create(inv, $"  face {i}: box x={f.Box.X:F1} y={f.Box.Y:F1} w={f.Box.Width:F1} h={f.Box.Height:F1}, score {f.Score:F3}"));
                output.WriteLine(string.Create(inv, $"    quality {q.Score:F2}: size {q.FaceSize:F0} px, yaw {q.Pose.Yaw:F1}°, pitch {q.Pose.Pitch:F1}°, roll {q.Pose.Roll:F1}°, sharpness {q.Sharpness:F0}"));
                if (f.Attributes is { } a)
                {
                    output.WriteLine(string.Create(inv, $"    attributes: age {a.Age:F0}, {a.Gender} ({a.GenderScore:F2}), {a.Expression} ({a.ExpressionConfidence:F2})"));
                }

                output.WriteLine($"    vector {f.Vector.ToBase64()}");
            }
        }
    }

    private static void WriteJson(IAnsiConsole console, string modelVersion, List<ImageResult> results)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("modelVersion", modelVersion);
            w.WriteStartArray("images");
            foreach (var r in results)
            {
                w.WriteStartObject();
                w.WriteString("path", r.Path);
                if (r.Error is { } error)
                {
                    w.WriteStartObject("error");
                    w.WriteString("code", error.Code);
                    w.WriteString("message", error.Message);
                    w.WriteEndObject();
                }

                w.WriteStartArray("faces");
                foreach (var f in r.Faces)
                {
                    w.WriteStartObject();
                    w.WriteStartObject("box");
                    w.WriteNumber("x", f.Box.X);
                    w.WriteNumber("y", f.Box.Y);
                    w.WriteNumber("width", f.Box.Width);
                    w.WriteNumber("height", f.Box.Height);
                    w.WriteEndObject();
                    w.WriteNumber("score", f.Score);
                    w.WriteStartArray("landmarks");
                    foreach (var p in f.Landmarks)
                    {
                        w.WriteStartArray();
                        w.WriteNumberValue(p.X);
                        w.WriteNumberValue(p.Y);
                        w.WriteEndArray();
                    }

                    w.WriteEndArray();
                    w.WriteStartObject("quality");
                    w.WriteNumber("score", f.Quality.Score);
                    w.WriteNumber("faceSize", f.Quality.FaceSize);
                    w.WriteNumber("yaw", f.Quality.Pose.Yaw);
                    w.WriteNumber("pitch", f.Quality.Pose.Pitch);
                    w.WriteNumber("roll", f.Quality.Pose.Roll);
                    w.WriteNumber("sharpness", f.Quality.Sharpness);
                    w.WriteEndObject();
                    if (f.Attributes is { } a)
                    {
                        w.WriteStartObject("attributes");
                        w.WriteNumber("age", a.Age);
                        w.WriteString("gender", a.Gender);
                        w.WriteNumber("genderScore", a.GenderScore);
                        w.WriteString("expression", a.Expression);
                        w.WriteNumber("expressionConfidence", a.ExpressionConfidence);
                        w.WriteEndObject();
                    }

                    w.WriteString("vector", f.Vector.ToBase64());
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        console.Profile.Out.Writer.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private sealed record ImageResult(string Path, IReadOnlyList<DetectedFace> Faces, (string Code, string Message)? Error);
}
