using System.Diagnostics.CodeAnalysis;
using System.Text;
using FaceIndex.Core;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace FaceIndex.Server.Internal;

/// <summary>
/// The one place that turns domain errors into gRPC statuses, and the throw helpers of the
/// service edge. Messages tell the client what to fix; exception text of faults never reaches it.
/// A machine-readable reason (NO_FACE, MODEL_MISMATCH, …) travels twice: in the standard rich error
/// model (a <c>google.rpc.Status</c> with an <c>ErrorInfo</c> of that reason and domain
/// <see cref="Domain"/>, in the <c>grpc-status-details-bin</c> trailer, which clients in every language
/// read with their gRPC library's status helpers) and, for simple clients, in the <c>faceindex-reason</c> trailer.
/// </summary>
internal static class Errors
{
    /// <summary>Trailer that carries the machine-readable reason of an error.</summary>
    public const string ReasonTrailer = "faceindex-reason";

    /// <summary>The <c>ErrorInfo.domain</c> of FaceIndex's errors.</summary>
    public const string Domain = "faceindex.dev";

    private static readonly Google.Protobuf.JsonFormatter s_json =
        new(Google.Protobuf.JsonFormatter.Settings.Default.WithTypeRegistry(Google.Protobuf.Reflection.TypeRegistry.FromMessages(ErrorInfo.Descriptor)));

    /// <summary>The status code of a domain error.</summary>
    public static StatusCode StatusOf(FaceIndexError error) => error switch
    {
        FaceIndexError.ImageUnreadable or FaceIndexError.ImageTruncated or FaceIndexError.ImageTooLarge
            or FaceIndexError.ImageTooSmall or FaceIndexError.NoFace or FaceIndexError.MultipleFaces
            or FaceIndexError.InvalidVector or FaceIndexError.InvalidArgument => StatusCode.InvalidArgument,
        FaceIndexError.ModelMismatch => StatusCode.FailedPrecondition,
        FaceIndexError.NotFound => StatusCode.NotFound,
        FaceIndexError.StorageCorrupted => StatusCode.DataLoss,
        FaceIndexError.AlreadyExists => StatusCode.AlreadyExists,
        FaceIndexError.StorageUnavailable or FaceIndexError.ModelMissing or FaceIndexError.ProviderUnavailable
            or FaceIndexError.ShuttingDown => StatusCode.Unavailable,
        _ => StatusCode.Internal,
    };

    /// <summary>NO_FACE for <see cref="FaceIndexError.NoFace"/>, and so on.</summary>
    public static string ReasonOf(FaceIndexError error)
    {
        var name = error.ToString();
        var text = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                text.Append('_');
            }

            text.Append(char.ToUpperInvariant(name[i]));
        }

        return text.ToString();
    }

    /// <summary>The RPC exception for a domain error.</summary>
    public static RpcException ToRpc(FaceIndexException ex) => Rpc(StatusOf(ex.Error), ReasonOf(ex.Error), ex.Message);

    /// <summary>Longest message sent to a client; longer ones (a client's huge id echoed back) are cut.</summary>
    public const int MaxMessageLength = 1024;

    /// <summary>An RPC exception with a status, a reason and a message for the client, in both forms (see the class remarks).</summary>
    public static RpcException Rpc(StatusCode code, string reason, string message, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var exception = Status(code, reason, message, metadata).ToRpcException();
        exception.Trailers.Add(ReasonTrailer, reason);
        return exception;
    }

    /// <summary>The <c>google.rpc.Status</c> of an error: code, message (cut to <see cref="MaxMessageLength"/>) and an <c>ErrorInfo</c> with the reason.</summary>
    public static Google.Rpc.Status Status(StatusCode code, string reason, string message, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var text = message.Length <= MaxMessageLength ? message : string.Concat(message.AsSpan(0, MaxMessageLength - 1), "…");
        var info = new ErrorInfo { Reason = reason, Domain = Domain };
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                info.Metadata[key] = value;
            }
        }

        return new Google.Rpc.Status { Code = (int)code, Message = text, Details = { Any.Pack(info) } };
    }

    /// <summary>A Status as the JSON that the REST API returns for errors (as gRPC JSON transcoding writes them).</summary>
    public static string Json(Google.Rpc.Status status) => s_json.Format(status);

    [DoesNotReturn]
    public static void ThrowInvalid(string message) => throw Rpc(StatusCode.InvalidArgument, "INVALID_ARGUMENT", message);

    [DoesNotReturn]
    public static void ThrowNotFound(string message) => throw Rpc(StatusCode.NotFound, "NOT_FOUND", message);

    [DoesNotReturn]
    public static void Throw(FaceIndexError error, string message) => throw Rpc(StatusOf(error), ReasonOf(error), message);
}
