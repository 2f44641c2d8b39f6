// Example: import a folder of people into a collection, then identify the faces of a photo.
//   dotnet run --project examples/FaceIndex.Example -- http://127.0.0.1:50051 staff ./people visitor.jpg
// FACEINDEX_KEY holds the API key when the server requires one.
using FaceIndex.Client;
using Grpc.Core;

if (args.Length != 4)
{
    Console.Error.WriteLine("usage: FaceIndex.Example SERVER COLLECTION PEOPLE_FOLDER PHOTO");
    return 2;
}

using var client = new FaceIndexClient(new FaceIndexClientOptions
{
    Address = new Uri(args[0]),
    ApiKey = Environment.GetEnvironmentVariable("FACEINDEX_KEY"),
    DefaultDeadline = TimeSpan.FromSeconds(30),
});

try
{
    await client.CreateCollectionAsync(args[1]);
}
catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
{
    // Importing into an existing collection is fine: the server skips photos it stored before.
}

var summary = await client.ImportFolderAsync(args[1], args[2], new Progress<ImportProgress>(p => Console.Write($"\r{p.Done}/{p.Total} images, {p.Failed} failed")));
Console.WriteLine($"\nstored {summary.Stored}, already there {summary.Duplicates}, failed {summary.Failures.Count}");
foreach (var failure in summary.Failures)
{
    Console.WriteLine($"  {failure.Path}: {failure.Reason} {failure.Message}");
}

var reply = await client.SearchAsync(args[1], await File.ReadAllBytesAsync(args[3]));
for (int i = 0; i < reply.Faces.Count; i++)
{
    var face = reply.Faces[i];
    Console.WriteLine(face.Unknown
        ? $"face {i + 1}: unknown"
        : $"face {i + 1}: {face.Persons[0].PersonId} (distance {face.Persons[0].Distance:0.000}, {face.Persons[0].MatchedFaces} matching faces)");
}

return 0;
