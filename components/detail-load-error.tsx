import * as React from "react";
import Link from "next/link";
import { ApiRequestError, isUnauthorized } from "./api";
import { Breadcrumb } from "./ui/breadcrumb";
import { buttonClass } from "./ui/button";
import { Card } from "./ui/card";
import { EmptyState } from "./ui/empty-state";
import { ErrorState } from "./ui/error-state";
import { PageHeader } from "./ui/page-header";

/**
 * A detail page (a patch, a rollout, a group, a host) whose item could not be loaded: "No such …"
 * with a link back to the list when the id is unknown (404, or 400 for a malformed one), else the
 * error with a retry. Nothing while the session is gone (the client is on its way to sign-in).
 */
export function DetailLoadError(props: {
  error: unknown;
  onRetry: () => void;
  /** "patch": the page's noun. */
  noun: string;
  /** The list it belongs to: "Patches" at "/patches". */
  section: string;
  href: string;
  icon?: React.ReactNode;
  breadcrumb?: React.ReactNode;
  notFoundTitle?: string;
  listLabel?: string;
  /** What an unknown id may mean. */
  children: React.ReactNode;
}) {
  const { error } = props;
  const notFound = error instanceof ApiRequestError && (error.status === 404 || error.status === 400);
  const title = props.noun.charAt(0).toUpperCase() + props.noun.slice(1);
  return (
    <>
      <PageHeader title={title} breadcrumb={props.breadcrumb ?? <Breadcrumb href={props.href} section={props.section} current="Not found" />} />
      <Card>
        {notFound ? (
          <EmptyState
            {...(props.icon ? { icon: props.icon } : {})}
            title={props.notFoundTitle ?? `No such ${props.noun}`}
            action={
              <Link href={props.href} className={buttonClass("secondary")}>
                {props.listLabel ?? `All ${props.section.toLowerCase()}`}
              </Link>
            }
          >
            {props.children}
          </EmptyState>
        ) : isUnauthorized(error) ? null : (
          <ErrorState error={error} title={`Could not load this ${props.noun}`} onRetry={props.onRetry} />
        )}
      </Card>
    </>
  );
}
