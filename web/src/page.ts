// web/page: what every page of the dashboard is given by the shell (app.tsx).
export interface PageProps {
  /** the API answered 401: the shell shows the sign-in form again */
  onSignedOut: () => void;
}
