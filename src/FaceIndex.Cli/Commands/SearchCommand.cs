using System.CommandLine;
using System.Globalization;
using FaceIndex.Protocol.V1;
using Google.Protobuf;
using Spectre.Console;

namespace FaceIndex.Cli.Commands;

/// <summary><c>faceindex search IMAGE --server URL</c>: identifies every face of an image against a collection and prints the matches.</summary>
internal static class SearchCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var image = new Argument<string>("IMAGE") { Description = "Image file (JPEG, PNG, WebP, BMP or GIF)" };
        var topK = new Option<int>("--top-k", "-k") { Description = "Matches per face", DefaultValueFactory = _ => 5 };
        var threshold = new Option<float?>("--threshold") { Description = "Squared L2 distance under which a candidate matches (default: the server's)" };
        var json = new Option<bool>("--json") { Description = "Print the reply as JSON" };
        var server = new ServerClientOptions();
        var search = new Command("search", "Identify the faces of an image against a collection on a running server.");
        search.Add(image);
        search.Add(topK);
        search.Add(threshold);
        search.Add(json);
        server.AddTo(search);
        search.SetAction((parse, ct) => ServerClientOptions.RunAsync(console, async () =>
        {
            var bytes = await File.ReadAllBytesAsync(parse.GetValue(image)!, ct).ConfigureAwait(false);
            using var channel = server.Connect(parse);
            var client = new Protocol.V1.FaceIndex.FaceIndexClient(channel);
            var request = new SearchRequest { Collection = server.Collection(parse), Image = ByteString.CopyFrom(bytes), TopK = parse.GetValue(topK) };
            if (parse.GetValue(threshold) is { } t)
            {
                request.Threshold = t;
            }

            var reply = await client.SearchAsync(request, cancellationToken: ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                console.Profile.Out.Writer.WriteLine(JsonFormatter.Default.Format(reply));
                return 0;
            }

            Print(console, reply);
            return 0;
        }));
        return search;
    }

    private static void Print(IAnsiConsole console, SearchResponse reply)
    {
        if (reply.Faces.Count == 0)
        {
            console.WriteLine("No face found in the image.");
            return;
        }

        var table = new Table().AddColumns("face", "box (x, y, w, h)", "person", "face id", "distance", "similarity");
        for (int i = 0; i < reply.Faces.Count; i++)
        {
            var face = reply.Faces[i];
            var box = string.Create(CultureInfo.InvariantCulture, $"{face.Box.X:F0}, {face.Box.Y:F0}, {face.Box.Width:F0}, {face.Box.Height:F0}");
            if (face.Unknown)
            {
                table.AddRow((i + 1).ToString(CultureInfo.InvariantCulture), box, "[yellow]unknown[/]", "", "", "");
                continue;
            }

            foreach (var match in face.Matches)
            {
                table.AddRow(
                    (i + 1).ToString(CultureInfo.InvariantCulture),
                    box,
                    Markup.Escape(match.PersonId),
                    match.FaceId.ToString(CultureInfo.InvariantCulture),
                    match.Distance.ToString("F3", CultureInfo.InvariantCulture),
                    match.Similarity.ToString("F3", CultureInfo.InvariantCulture));
            }
        }

        console.Write(table);
        console.MarkupLineInterpolated($"threshold {reply.Threshold:F3} (squared L2)");
    }
}
