using System.Text.Json;
using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Gateway.Correlation;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Lightfast.Cloud.Gateway.Errors;

/// <summary>
/// The one place where errors become responses: RFC 9457 problem details with a stable <c>code</c>, the
/// <c>correlationId</c>, and the status that fits the error's category. Unexpected exceptions are logged and
/// answered with 500 <c>INTERNAL_ERROR</c> without internals.
/// </summary>
internal sealed partial class GatewayExceptionHandler(IProblemDetailsService problemDetails, ILogger<GatewayExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>Status used when the client went away before the answer (nginx's convention).</summary>
    public const int ClientClosedRequest = 499;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            LightfastException lightfast => FromLightfast(lightfast),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => Create(
                StatusCodes.Status413PayloadTooLarge, ErrorCodes.RequestTooLarge, "Request body too large", "The request body is larger than the gateway accepts."),
            BadHttpRequestException bad => Create(
                bad.StatusCode, ErrorCodes.RequestMalformed, "Malformed request", Describe(bad)),
            JsonException json => Create(
                StatusCodes.Status400BadRequest, ErrorCodes.RequestMalformed, "Malformed request", $"The request body is not valid JSON: {json.Message}"),
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested => Create(
                ClientClosedRequest, ErrorCodes.OperationCancelled, "Request cancelled", "The client cancelled the request."),
            SiloUnavailableException or OrleansMessageRejectionException or ClientNotAvailableException or TimeoutException => Create(
                StatusCodes.Status503ServiceUnavailable, ErrorCodes.ClusterUnavailable, "Service unavailable",
                "The cluster could not complete the request now (a silo is unavailable or being replaced); try again shortly."),
            _ => null,
        };

        if (problem is null)
        {
            GatewayLog.UnhandledException(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            problem = Create(StatusCodes.Status500InternalServerError, ErrorCodes.InternalError, "Internal error", "An unexpected error occurred; quote the correlation id when reporting it.");
        }
        else
        {
            GatewayLog.RequestFailed(logger, httpContext.Request.Method, httpContext.Request.Path, problem.Status ?? 0, (string)problem.Extensions["code"]!, exception.Message);
        }

        problem.Instance = httpContext.Request.Path;
        problem.Extensions["correlationId"] = httpContext.GetCorrelationId();
        httpContext.Response.StatusCode = problem.Status ?? StatusCodes.Status500InternalServerError;
        if (exception is LightfastException { RetryAfter: { } retryAfter })
        {
            httpContext.Response.Headers.RetryAfter = ((int)retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else if (problem.Extensions["code"] is ErrorCodes.ClusterUnavailable)
        {
            httpContext.Response.Headers.RetryAfter = "1";
        }

        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    public static int StatusOf(ErrorCategory category) => category switch
    {
        ErrorCategory.Validation => StatusCodes.Status400BadRequest,
        ErrorCategory.NotFound => StatusCodes.Status404NotFound,
        ErrorCategory.Conflict => StatusCodes.Status409Conflict,
        ErrorCategory.Unprocessable => StatusCodes.Status422UnprocessableEntity,
        ErrorCategory.Upstream => StatusCodes.Status502BadGateway,
        ErrorCategory.Unavailable => StatusCodes.Status503ServiceUnavailable,
        ErrorCategory.Timeout => StatusCodes.Status504GatewayTimeout,
        ErrorCategory.Cancelled => ClientClosedRequest,
        _ => StatusCodes.Status500InternalServerError,
    };

    private static ProblemDetails FromLightfast(LightfastException exception)
    {
        var status = StatusOf(exception.Category);
        var problem = Create(status, exception.Code, TitleOf(exception.Category), exception.Message);
        if (exception.Details.Count > 0)
        {
            problem.Extensions["details"] = exception.Details;
        }

        var errors = exception switch
        {
            ValidationException validation => validation.Errors,
            ConfigurationException configuration => configuration.Errors,
            _ => null,
        };
        if (errors is not null)
        {
            problem.Extensions["errors"] = errors.Select(e => new { path = e.Path, message = e.Message }).ToArray();
        }

        return problem;
    }

    private static ProblemDetails Create(int status, string code, string title, string detail)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        problem.Extensions["code"] = code;
        return problem;
    }

    private static string TitleOf(ErrorCategory category) => category switch
    {
        ErrorCategory.Validation => "Invalid request",
        ErrorCategory.NotFound => "Not found",
        ErrorCategory.Conflict => "Conflict",
        ErrorCategory.Unprocessable => "Unprocessable request",
        ErrorCategory.Upstream => "MCP server error",
        ErrorCategory.Unavailable => "Service unavailable",
        ErrorCategory.Timeout => "Timed out",
        ErrorCategory.Cancelled => "Cancelled",
        _ => "Configuration error",
    };

    private static string Describe(BadHttpRequestException exception) =>
        exception.InnerException is JsonException json
            ? $"The request body is not valid JSON: {json.Message}"
            : exception.Message;
}
