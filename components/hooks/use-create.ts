"use client";
import { useMutation, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { apiFetch } from "../api";

/**
 * POST a new item to `path`. The answer is the item itself, so it seeds the item's own query
 * (its page opens without a fetch), and `listKey` is fetched again to show it in the list.
 */
export function useCreateItem<Body, Item extends { id: string }>(path: string, itemKey: (id: string) => QueryKey, listKey: QueryKey) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Body) => apiFetch<Item>(path, { method: "POST", body }),
    onSuccess: (item) => {
      qc.setQueryData(itemKey(item.id), item);
      void qc.invalidateQueries({ queryKey: listKey });
    },
  });
}
