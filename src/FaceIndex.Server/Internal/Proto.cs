using FaceIndex.Storage;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Server.Internal;

/// <summary>Conversions between the store's records and the API's messages.</summary>
internal static class Proto
{
    public static V1.Face Face(FaceRecord face)
    {
        var message = new V1.Face
        {
            FaceId = (ulong)face.FaceId,
            PersonId = face.PersonId,
            Collection = face.Collection,
            DetectionScore = face.DetectionScore,
            ModelVersion = face.ModelVersion,
            CreatedAt = Timestamp.FromDateTimeOffset(face.CreatedAt),
        };
        if (face.Box is { } box)
        {
            message.Box = Box(box);
        }

        if (face.ContentHash is { } hash)
        {
            message.ContentSha256 = ByteString.CopyFrom(hash);
        }

        foreach (var (key, value) in face.Tags)
        {
            message.Tags[key] = value;
        }

        return message;
    }

    public static V1.BoundingBox Box(BoundingBox box) => new() { X = box.X, Y = box.Y, Width = box.Width, Height = box.Height };

    public static V1.BoundingBox Box(FaceIndex.Vision.FaceBox box) => new() { X = box.X, Y = box.Y, Width = box.Width, Height = box.Height };

    public static V1.Collection Collection(CollectionRecord collection) => new()
    {
        Name = collection.Name,
        ModelVersion = collection.ModelVersion,
        FaceCount = collection.FaceCount,
        PersonCount = collection.PersonCount,
        CreatedAt = Timestamp.FromDateTimeOffset(collection.CreatedAt),
    };

    public static Dictionary<string, string>? Map(Google.Protobuf.Collections.MapField<string, string> map) =>
        map.Count == 0 ? null : new Dictionary<string, string>(map, StringComparer.Ordinal);
}
