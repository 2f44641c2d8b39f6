using System.Text;
using Google.Protobuf;
using Grpc.Core;

namespace FaceIndex.Server.Internal;

/// <summary>
/// Binds a generated service with request deserializers that turn a malformed message (bad wire
/// format, a string that is not UTF-8, nesting past the limit) into InvalidArgument with reason
/// MALFORMED_REQUEST. Without it gRPC answers Unknown and logs the parser's exception as an error.
/// </summary>
internal sealed class RequestBinder(ServiceBinderBase inner) : ServiceBinderBase
{
    /// <summary>Reason of a request that could not be parsed.</summary>
    public const string MalformedReason = "MALFORMED_REQUEST";

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Checked(method), handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Checked(method), handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Checked(method), handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Checked(method), handler);

    /// <summary>The client's error for a request of type <paramref name="messageName"/> that the parser refused.</summary>
    public static RpcException Malformed(string messageName, InvalidProtocolBufferException e)
    {
        string why = e.InnerException is DecoderFallbackException ? "a string field is not valid UTF-8." : e.Message;
        return Errors.Rpc(StatusCode.InvalidArgument, MalformedReason, $"The request is not a valid {messageName} message: {why}");
    }

    private static Method<TRequest, TResponse> Checked<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class
        where TResponse : class
    {
        var marshaller = method.RequestMarshaller;
        var request = new Marshaller<TRequest>(marshaller.ContextualSerializer, context =>
        {
            try
            {
                return marshaller.ContextualDeserializer(context);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw Malformed(typeof(TRequest).Name, e);
            }
        });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, request, method.ResponseMarshaller);
    }
}
